// Switching a running workspace to another branch or commit in place: the checkout moves, the
// environment follows (and comes from the cache when it was built before), and uncommitted work
// is refused, stashed or carried — never silently lost.

import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Workspace as WireWorkspace } from '../../src/wire/workspaces.js';
import { commitFiles, git as gitIn, makeRepo } from '../support/git-fixtures.js';
import { type GitHttpServer, startGitHttpServer } from '../support/git-http-server.js';
import { writeHelloFlake } from '../support/nix-fixtures.js';
import { openTerminal, startTestServer, type TestServer, waitForStatus } from '../support/nixspace-server.js';
import { packedPackage } from '../support/npm-fixtures.js';
import { workspaceGit } from '../support/workspace-git.js';

type Workspace = WireWorkspace<{
  hash: string;
  cached: boolean;
  report: { name: string; wanted: string | null }[];
  installs: { label: string; result: string }[];
}>;

async function head(dir: string): Promise<string> {
  return (await workspaceGit(dir, ['rev-parse', 'HEAD'])).trim();
}

/** Adds a branch to a bare repository: one commit on top of `from` with `files`. */
async function addBranch(gitDir: string, branch: string, from: string, files: Record<string, string>) {
  const parent = await gitIn(['--git-dir', gitDir, 'rev-parse', `refs/heads/${from}`]);
  const commit = await commitFiles(gitDir, { parent, files, message: `On ${branch}` });
  await gitIn(['--git-dir', gitDir, 'update-ref', `refs/heads/${branch}`, commit]);
  return commit;
}

describe('switching a workspace to another ref', () => {
  let git: GitHttpServer;
  let server: TestServer;
  let newerCommit: string;

  before(async () => {
    git = await startGitHttpServer();
    await makeRepo(git.root, 'app.git', {
      // A committed lockfile: the dependency install changes nothing in the checkout.
      files: {
        '.nvmrc': '20\n',
        'package.json': JSON.stringify({ name: 'app', version: '1.0.0' }),
        'package-lock.json': JSON.stringify({
          name: 'app',
          version: '1.0.0',
          lockfileVersion: 3,
          requires: true,
          packages: { '': { name: 'app', version: '1.0.0' } },
        }),
        'notes.txt': 'main\n',
        'other.txt': 'other\n',
      },
    });
    // The newer branch moves the toolchain and changes notes.txt.
    newerCommit = await addBranch(join(git.root, 'app.git'), 'node22', 'main', {
      '.nvmrc': '22\n',
      'notes.txt': 'node22\n',
    });
    // No lockfile: each commit's package.json names another version of a committed package.
    await makeRepo(git.root, 'nolock.git', {
      files: {
        '.gitignore': 'node_modules/\n',
        'package.json': JSON.stringify({
          name: 'nolock',
          dependencies: { greet: 'file:vendor/greet-1.tgz' },
        }),
        'vendor/greet-1.tgz': await packedPackage('greet', '1.0.0', 'greet v1'),
        'vendor/greet-2.tgz': await packedPackage('greet', '2.0.0', 'greet v2'),
      },
    });
    await addBranch(join(git.root, 'nolock.git'), 'greet2', 'main', {
      'package.json': JSON.stringify({ name: 'nolock', dependencies: { greet: 'file:vendor/greet-2.tgz' } }),
    });
    server = await startTestServer();
  });

  after(async () => {
    await server?.close();
    await git?.close();
  });

  async function create(repoName = 'app.git'): Promise<{ id: string; repo: string; workspace: Workspace }> {
    const created = await server.api<Workspace>('/api/workspaces', {
      method: 'POST',
      body: { repoUrl: git.url(repoName) },
    });
    const workspace = (await waitForStatus(server, created.body.id, [
      'running',
      'failed',
    ])) as unknown as Workspace;
    assert.equal(workspace.status, 'running', JSON.stringify(workspace));
    return { id: workspace.id, repo: join(server.dataDir, 'workspaces', workspace.id, 'repo'), workspace };
  }

  function switchTo(id: string, ref: string, uncommitted?: string) {
    return server.api<Workspace & { code?: string; message?: string; detail?: string }>(
      `/api/workspaces/${id}/switch`,
      { method: 'POST', body: { ref, ...(uncommitted ? { uncommitted } : {}) } },
    );
  }

  async function settled(id: string): Promise<Workspace> {
    return (await waitForStatus(server, id, ['running', 'failed', 'stopped'])) as unknown as Workspace;
  }

  const wantedNode = (ws: Workspace) => ws.environment?.report.find((r) => r.name === 'node')?.wanted;

  it('moves the checkout and the toolchain to a branch and back, without recreating the workspace', async () => {
    const { id, repo, workspace } = await create();
    assert.equal(wantedNode(workspace), '20', JSON.stringify(workspace.environment));
    const main = await head(repo);

    // The switcher offers the branches (newest first) and the default branch's recent commits.
    const refs = await server.api<{
      branches: { name: string; commit: string }[];
      commits: { commit: string; subject: string }[];
    }>(`/api/workspaces/${id}/refs`);
    assert.equal(refs.status, 200);
    assert.deepEqual(refs.body.branches.map((b) => b.name).sort(), ['main', 'node22']);
    assert.equal(refs.body.branches.find((b) => b.name === 'node22')?.commit, newerCommit);
    assert.equal(refs.body.commits[0]?.commit, main);

    const response = await switchTo(id, 'node22');
    assert.equal(response.status, 200, JSON.stringify(response.body));
    assert.equal(response.body.commit, newerCommit);
    const switched = await settled(id);
    assert.equal(switched.status, 'running', JSON.stringify(switched.steps));
    assert.equal(switched.branch, 'node22');
    assert.equal(switched.ref, 'node22');
    assert.equal(await head(repo), newerCommit);
    assert.equal(await readFile(join(repo, 'notes.txt'), 'utf8'), 'node22\n');
    assert.equal(wantedNode(switched), '22');
    assert.equal(switched.steps.find((s) => s.name === 'sandbox')?.status, 'done', 'the environment changed');

    // A new shell sees the switched files.
    const terminal = await openTerminal(server, id);
    terminal.type('cat notes.txt\r');
    await terminal.waitFor((t) => t.output.includes('node22\r\n'));
    terminal.close();

    await switchTo(id, 'main');
    const back = await settled(id);
    assert.equal(back.status, 'running');
    assert.equal(await head(repo), main);
    assert.equal(wantedNode(back), '20');

    // Each environment the workspace ran with is a version, with its diff against the one before.
    const { body } = await server.api<{
      versions: { id: string; commit: string; message: string; changes: { summary: string } }[];
    }>(`/api/workspaces/${id}/versions`);
    assert.deepEqual(
      body.versions.map((v) => v.changes.summary),
      ['node 22 → 20', 'node 20 → 22', '+node 20, +npm, 1 other change'],
    );
    assert.equal(body.versions[1]?.commit, newerCommit);
    assert.match(body.versions[1]?.message ?? '', /switched to node22/);

    // Rollback returns to an earlier version in one step, over GraphQL as well.
    const rolled = await server.graphql<{ rollbackEnvironment: { status: string } }>(
      'mutation($id: ID!, $v: ID!) { rollbackEnvironment(id: $id, versionId: $v) { status } }',
      { id, v: body.versions[1]!.id },
    );
    assert.equal(rolled.data?.rollbackEnvironment.status, 'switching', JSON.stringify(rolled));
    const after = await settled(id);
    assert.equal(after.commit, newerCommit);
    assert.equal(await head(repo), newerCommit);
    assert.equal(wantedNode(after), '22');
    const versions = await server.graphql<{ environmentVersions: { summary: string }[] }>(
      'query($id: ID!) { environmentVersions(id: $id) { summary } }',
      { id },
    );
    assert.equal(versions.data?.environmentVersions[0]?.summary, 'node 20 → 22');

    const unknown = await server.api<{ code: string }>(`/api/workspaces/${id}/rollback`, {
      method: 'POST',
      body: { versionId: '00000000-0000-4000-8000-000000000000' },
    });
    assert.equal(unknown.status, 404);
    assert.equal(unknown.body.code, 'NOT_FOUND');
  });

  it('switches back to a commit without a lockfile from the cache, leaving no lockfile in the checkout', async () => {
    const { id, repo, workspace } = await create('nolock.git');
    const install = (ws: Workspace) => ws.environment?.installs.map((i) => [i.label, i.result]);
    const greet = () => readFile(join(repo, 'node_modules', 'greet', 'index.js'), 'utf8');
    const clean = async () => await workspaceGit(repo, ['status', '--porcelain']);
    assert.deepEqual(install(workspace), [['npm install --no-package-lock', 'installed']]);
    assert.match(await greet(), /greet v1/);

    assert.equal((await switchTo(id, 'greet2')).status, 200);
    const b = await settled(id);
    assert.equal(b.status, 'running', JSON.stringify(b.steps));
    assert.deepEqual(install(b), [['npm install --no-package-lock', 'installed']]);
    assert.match(await greet(), /greet v2/);
    assert.equal(await clean(), '', 'the install left no change in the checkout');

    // Back to main: its manifest was installed before, so the install comes from the cache.
    const back = await switchTo(id, 'main');
    assert.equal(back.status, 200, JSON.stringify(back.body));
    const a = await settled(id);
    assert.equal(a.status, 'running', JSON.stringify(a.steps));
    assert.deepEqual(install(a), [['npm install --no-package-lock', 'cached']]);
    assert.match(a.steps.find((s) => s.name === 'install')?.detail ?? '', /\(cached, \d+ ms\)/);
    assert.match(await greet(), /greet v1/);
    assert.equal(await clean(), '');
    await assert.rejects(readFile(join(repo, 'package-lock.json')), /ENOENT/);

    // A new shell loads the restored package.
    const terminal = await openTerminal(server, id);
    terminal.type(`node -p "require('greet')"\r`);
    await terminal.waitFor((t) => t.output.includes('greet v1\r\n'));
    terminal.close();

    // Those installs were this workspace's alone: they go when it is deleted.
    const cached = join(server.dataDir, 'cache', 'dependencies', 'workspaces', id);
    // (Beside them, the server's record of what the workspace has installed.)
    const entries = (await readdir(cached)).filter((name) => name !== 'installed.json');
    assert.equal(entries.length, 2, 'one entry per manifest');
    assert.equal((await server.api(`/api/workspaces/${id}`, { method: 'DELETE' })).status, 204);
    await assert.rejects(readdir(cached), /ENOENT/);
  });

  it('refuses to switch over uncommitted work by default, and changes nothing', async () => {
    const { id, repo } = await create();
    const before = await head(repo);
    await writeFile(join(repo, 'notes.txt'), 'my edit\n');
    await writeFile(join(repo, 'scratch.txt'), 'new file\n');

    const refused = await switchTo(id, 'node22');
    assert.equal(refused.status, 409);
    assert.equal(refused.body.code, 'UNCOMMITTED_CHANGES');
    // In the words the switch dialog offers: "Stash them", "Carry them over".
    assert.match(
      refused.body.message ?? '',
      /uncommitted changes in 2 files: commit them, stash them or carry them over$/,
    );
    assert.match(refused.body.detail ?? '', /notes\.txt/);
    assert.equal(await head(repo), before);
    assert.equal(await readFile(join(repo, 'notes.txt'), 'utf8'), 'my edit\n');
    assert.equal(await readFile(join(repo, 'scratch.txt'), 'utf8'), 'new file\n');
    const ws = (await server.api<Workspace>(`/api/workspaces/${id}`)).body;
    assert.equal(ws.status, 'running');
  });

  it('stashes uncommitted work under a named stash that brings it back', async () => {
    const { id, repo } = await create();
    await writeFile(join(repo, 'notes.txt'), 'my edit\n');
    await writeFile(join(repo, 'scratch.txt'), 'new file\n');

    const response = await switchTo(id, 'node22', 'stash');
    assert.equal(response.status, 200, JSON.stringify(response.body));
    await settled(id);
    assert.equal(await head(repo), newerCommit);
    assert.equal(await readFile(join(repo, 'notes.txt'), 'utf8'), 'node22\n');

    const { body } = await server.api<{ stashes: { ref: string; message: string }[] }>(
      `/api/workspaces/${id}/stashes`,
    );
    assert.equal(body.stashes.length, 1);
    assert.match(body.stashes[0]!.message, /^nixspace: before switching to node22/);

    // The stash holds both files; going back and popping it restores the work exactly.
    await switchTo(id, 'main');
    await settled(id);
    await workspaceGit(repo, ['stash', 'pop']);
    assert.equal(await readFile(join(repo, 'notes.txt'), 'utf8'), 'my edit\n');
    assert.equal(await readFile(join(repo, 'scratch.txt'), 'utf8'), 'new file\n');
  });

  it('carries work over when it applies cleanly, and refuses when the target changes the same file', async () => {
    const { id, repo } = await create();
    const before = await head(repo);
    await writeFile(join(repo, 'notes.txt'), 'my edit\n');

    const clash = await switchTo(id, 'node22', 'carry');
    assert.equal(clash.status, 409);
    assert.equal(clash.body.code, 'UNCOMMITTED_CHANGES');
    assert.match(
      clash.body.message ?? '',
      /cannot be carried over to node22.*Stash them, or commit them first/,
    );
    assert.equal(await head(repo), before);
    assert.equal(await readFile(join(repo, 'notes.txt'), 'utf8'), 'my edit\n');

    await workspaceGit(repo, ['checkout', '--', 'notes.txt']);
    await writeFile(join(repo, 'other.txt'), 'my other edit\n');
    await writeFile(join(repo, 'scratch.txt'), 'new file\n');
    const carried = await switchTo(id, 'node22', 'carry');
    assert.equal(carried.status, 200, JSON.stringify(carried.body));
    await settled(id);
    assert.equal(await head(repo), newerCommit);
    assert.equal(await readFile(join(repo, 'other.txt'), 'utf8'), 'my other edit\n');
    assert.equal(await readFile(join(repo, 'scratch.txt'), 'utf8'), 'new file\n');
  });

  it('will not switch under a running job unless asked to cancel it, and then cancels it first', async () => {
    const { id, repo } = await create();
    const before = await head(repo);
    const started = await server.api<{ id: string; status: string }>('/api/jobs', {
      method: 'POST',
      body: { command: 'echo started; sleep 30', target: id },
    });
    assert.equal(started.status, 201, JSON.stringify(started.body));

    const refused = await switchTo(id, 'node22');
    assert.equal(refused.status, 409);
    assert.equal(refused.body.code, 'JOBS_RUNNING');
    assert.match(
      refused.body.message ?? '',
      /A job is running in .*\(echo started; sleep 30\).*jobs: "cancel"/,
    );
    assert.equal(await head(repo), before, 'nothing changed');
    const still = await server.api<{ status: string }>(`/api/jobs/${started.body.id}`);
    assert.equal((still.body as unknown as { job: { status: string } }).job.status, 'running');

    const badPolicy = await server.api<{ code: string; message: string }>(`/api/workspaces/${id}/switch`, {
      method: 'POST',
      body: { ref: 'node22', jobs: 'queue' },
    });
    assert.equal(badPolicy.status, 400);
    assert.match(badPolicy.body.message, /jobs must be "refuse" or "cancel"/);

    const switched = await server.api<Workspace>(`/api/workspaces/${id}/switch`, {
      method: 'POST',
      body: { ref: 'node22', jobs: 'cancel' },
    });
    assert.equal(switched.status, 200, JSON.stringify(switched.body));
    const job = await server.api<{ job: { status: string }; events: { stream: string; chunk: string }[] }>(
      `/api/jobs/${started.body.id}`,
    );
    assert.equal(job.body.job.status, 'cancelled');
    assert.ok(job.body.events.some((e) => e.stream === 'system' && /switching to node22/.test(e.chunk)));
    assert.equal((await settled(id)).status, 'running');
    assert.equal(await head(repo), newerCommit);
  });

  it('answers an unknown ref, an invalid policy and a stopped workspace with clear errors, changing nothing', async () => {
    const { id, repo } = await create();
    const before = await head(repo);

    const unknown = await switchTo(id, 'no-such-branch');
    assert.equal(unknown.status, 404);
    assert.equal(unknown.body.code, 'REF_NOT_FOUND');
    assert.match(unknown.body.message ?? '', /no-such-branch/);

    const policy = await switchTo(id, 'node22', 'discard');
    assert.equal(policy.status, 400);
    assert.match(policy.body.message ?? '', /uncommitted must be/);

    await server.api(`/api/workspaces/${id}/stop`, { method: 'POST' });
    const stopped = await switchTo(id, 'node22');
    assert.equal(stopped.status, 409);
    assert.match(stopped.body.message ?? '', /only a running workspace can switch/);
    assert.equal(await head(repo), before);

    const missing = await switchTo('00000000-0000-4000-8000-000000000000', 'main');
    assert.equal(missing.status, 404);
    assert.equal(missing.body.code, 'NOT_FOUND');
  });
});

describe('switching between commits whose flakes differ', () => {
  let git: GitHttpServer;
  let server: TestServer;
  let flakeDir: string;

  before(async () => {
    git = await startGitHttpServer();
    flakeDir = await mkdtemp(join(tmpdir(), 'nixspace-switch-flake-'));
    await writeHelloFlake(flakeDir, 'hello-from-main');
    await makeRepo(git.root, 'flakes.git', {
      files: { 'flake.nix': await readFile(join(flakeDir, 'flake.nix')) },
    });
    await writeHelloFlake(flakeDir, 'hello-from-next');
    await addBranch(join(git.root, 'flakes.git'), 'next', 'main', {
      'flake.nix': await readFile(join(flakeDir, 'flake.nix'), 'utf8'),
    });
    server = await startTestServer({ config: { environmentProvider: 'nix', nixOffline: true } });
  });

  after(async () => {
    await server?.close();
    await git?.close();
    await rm(flakeDir, { recursive: true, force: true });
  });

  it('activates the right environment each time, and switching back reuses the earlier build', async () => {
    const created = await server.api<Workspace>('/api/workspaces', {
      method: 'POST',
      body: { repoUrl: git.url('flakes.git') },
    });
    const first = (await waitForStatus(
      server,
      created.body.id,
      ['running', 'failed'],
      120_000,
    )) as unknown as Workspace;
    assert.equal(first.status, 'running', JSON.stringify(first.steps));
    const id = first.id;
    const greeting = async (expected: string) => {
      const terminal = await openTerminal(server, id);
      terminal.type('hello\r');
      await terminal.waitFor((t) => t.output.includes(`${expected}\r\n`), 15_000);
      terminal.close();
    };
    await greeting('hello-from-main');

    await server.api(`/api/workspaces/${id}/switch`, { method: 'POST', body: { ref: 'next' } });
    const next = (await waitForStatus(server, id, ['running', 'stopped'], 120_000)) as unknown as Workspace;
    assert.equal(next.status, 'running', JSON.stringify(next.steps));
    assert.notEqual(next.environment?.hash, first.environment?.hash);
    await greeting('hello-from-next');

    await server.api(`/api/workspaces/${id}/switch`, { method: 'POST', body: { ref: 'main' } });
    const back = (await waitForStatus(server, id, ['running', 'stopped'], 120_000)) as unknown as Workspace;
    assert.equal(back.status, 'running');
    assert.equal(back.environment?.hash, first.environment?.hash);
    assert.equal(back.environment?.cached, true, 'the earlier build is reused by hash');
    assert.match(back.steps.find((s) => s.name === 'build')?.detail ?? '', /reused/);
    await greeting('hello-from-main');
  });
});
