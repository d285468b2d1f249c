// Issue 11, item 2: git configuration planted in a workspace's repository (core.fsmonitor,
// core.hooksPath, .git/hooks, a signature program for stash listing) ran on the host, as the
// server, when NixSpace switched, branched, rolled back or listed stashes. git on a checkout runs
// inside the workspace's sandbox, and NixSpace's own git runs none of the planted programs there.

import assert from 'node:assert/strict';
import { chmod, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { git as gitIn, makeRepo } from '../support/git-fixtures.js';
import { type GitHttpServer, startGitHttpServer } from '../support/git-http-server.js';
import {
  createAndWaitRunning,
  openTerminal,
  startTestServer,
  type TestServer,
  waitForStatus,
} from '../support/nixspace-server.js';

interface Workspace {
  id: string;
  status: string;
  commit: string | null;
  branch: string | null;
  steps: unknown;
}

describe('git configuration planted in a workspace', () => {
  let git: GitHttpServer;
  let server: TestServer;
  // The sandbox mounts a /tmp of its own: this host directory is out of its sight, so only a
  // program run on the host can write there.
  let hostMarkers: string;
  let featureCommit: string;

  before(async () => {
    hostMarkers = await mkdtemp(join(tmpdir(), 'nixspace-host-markers-'));
    git = await startGitHttpServer();
    const made = await makeRepo(git.root, 'planted.git', {
      files: { 'notes.txt': 'main\n' },
      branches: ['feature'],
    });
    featureCommit = made.branches.feature!;
    server = await startTestServer();
  });

  after(async () => {
    await server?.close();
    await git?.close();
    await rm(hostMarkers, { recursive: true, force: true });
  });

  const repoOf = (id: string) => join(server.dataDir, 'workspaces', id, 'repo');

  async function emptyHostMarkers(): Promise<void> {
    for (const name of await readdir(hostMarkers)) await rm(join(hostMarkers, name), { force: true });
  }

  /** The planted programs that ran on the host, by name. */
  async function ranOnHost(): Promise<string[]> {
    return (await readdir(hostMarkers)).sort();
  }

  /** The planted programs that ran inside the workspace (each leaves a line in .git/planted-ran). */
  async function ranInside(repo: string): Promise<string[]> {
    const text = await readFile(join(repo, '.git', 'planted-ran'), 'utf8').catch(() => '');
    return [...new Set(text.split('\n').filter(Boolean))].sort();
  }

  /** A program for git to run that leaves a marker on the host's /tmp and one in the repository. */
  async function plantProgram(repo: string, path: string, name: string): Promise<void> {
    await mkdir(join(path, '..'), { recursive: true });
    await writeFile(
      path,
      [
        '#!/bin/sh',
        `touch ${join(hostMarkers, name)} 2>/dev/null`,
        `echo ${name} >> ${join(repo, '.git', 'planted-ran')}`,
        'exit 0',
        '',
      ].join('\n'),
    );
    await chmod(path, 0o755);
  }

  /**
   * Plants, as the workspace itself could: an fsmonitor program, a hooks directory with a
   * post-checkout hook (or the repository's own .git/hooks/post-checkout), and a stash whose commit
   * carries a signature, listed with signatures shown through a planted gpg program.
   */
  async function plant(repo: string, hooks: 'hooksPath' | '.git/hooks'): Promise<void> {
    const gitDir = join(repo, '.git');
    // A signed-looking stash commit (written with plumbing, before the hooks exist).
    const tree = await gitIn(['--git-dir', gitDir, 'write-tree']);
    const signed = [
      `tree ${tree}`,
      'author Someone <someone@example.test> 1700000000 +0000',
      'committer Someone <someone@example.test> 1700000000 +0000',
      'gpgsig -----BEGIN PGP SIGNATURE-----',
      ' ',
      ' AAAA',
      ' -----END PGP SIGNATURE-----',
      '',
      'On main: planted',
      '',
    ].join('\n');
    const commit = await gitIn(['--git-dir', gitDir, 'hash-object', '-t', 'commit', '-w', '--stdin'], {
      input: signed,
    });
    await mkdir(join(gitDir, 'logs', 'refs'), { recursive: true });
    await writeFile(join(gitDir, 'refs', 'stash'), `${commit}\n`);
    await writeFile(
      join(gitDir, 'logs', 'refs', 'stash'),
      `${'0'.repeat(40)} ${commit} Someone <someone@example.test> 1700000000 +0000\tOn main: planted\n`,
    );

    await plantProgram(repo, join(gitDir, 'planted', 'fsmonitor'), 'fsmonitor');
    await plantProgram(repo, join(gitDir, 'planted', 'gpg'), 'gpg');
    const config = [
      '[core]',
      `\tfsmonitor = ${join(gitDir, 'planted', 'fsmonitor')}`,
      '[log]',
      '\tshowSignature = true',
      '[gpg]',
      `\tprogram = ${join(gitDir, 'planted', 'gpg')}`,
    ];
    if (hooks === 'hooksPath') {
      await plantProgram(repo, join(gitDir, 'planted', 'hooks', 'post-checkout'), 'hooksPath');
      config.push('[core]', `\thooksPath = ${join(gitDir, 'planted', 'hooks')}`);
    } else {
      await plantProgram(repo, join(gitDir, 'hooks', 'post-checkout'), 'post-checkout');
    }
    await writeFile(
      join(gitDir, 'config'),
      `${await readFile(join(gitDir, 'config'), 'utf8')}${config.join('\n')}\n`,
    );
  }

  /** git run in the workspace's own terminal does run what was planted: the plant is live. */
  async function provePlantIsLive(id: string, expected: string[]): Promise<void> {
    const terminal = await openTerminal(server, id);
    try {
      terminal.type(
        'git status >/dev/null 2>&1; git stash list >/dev/null 2>&1; git checkout -q HEAD~0 2>/dev/null; git checkout -q - 2>/dev/null; echo "planted-$((20+22))"\r',
      );
      await terminal.waitFor((t) => t.output.includes('planted-42'));
    } finally {
      terminal.close();
    }
    const repo = repoOf(id);
    for (const name of expected)
      assert.ok((await ranInside(repo)).includes(name), `${name} ran in the terminal`);
    assert.deepEqual(await ranOnHost(), [], 'the workspace itself cannot reach the host marker directory');
    await rm(join(repo, '.git', 'planted-ran'), { force: true });
  }

  async function stashes(id: string): Promise<{ ref: string; message: string }[]> {
    const response = await server.api<{ stashes: { ref: string; message: string }[] }>(
      `/api/workspaces/${id}/stashes`,
    );
    assert.equal(response.status, 200, JSON.stringify(response.body));
    return response.body.stashes;
  }

  async function branch(id: string, ref: string): Promise<Workspace> {
    const response = await server.api<Workspace>(`/api/workspaces/${id}/branch`, {
      method: 'POST',
      body: { ref },
    });
    assert.equal(response.status, 201, JSON.stringify(response.body));
    const done = (await waitForStatus(server, response.body.id, [
      'running',
      'failed',
    ])) as unknown as Workspace;
    assert.equal(done.status, 'running', JSON.stringify(done.steps));
    return done;
  }

  it('runs none of fsmonitor, core.hooksPath or a gpg program on the host when switching, rolling back, listing stashes or branching', async () => {
    await emptyHostMarkers();
    const workspace = await createAndWaitRunning<Workspace>(server, git.url('planted.git'));
    const id = workspace.id;
    const main = workspace.commit!;
    await plant(repoOf(id), 'hooksPath');
    await provePlantIsLive(id, ['fsmonitor', 'gpg', 'hooksPath']);

    // Running: switch to another branch.
    const switched = await server.api<Workspace>(`/api/workspaces/${id}/switch`, {
      method: 'POST',
      body: { ref: 'feature' },
    });
    assert.equal(switched.status, 200, JSON.stringify(switched.body));
    assert.equal(switched.body.commit, featureCommit);
    assert.equal((await waitForStatus(server, id, ['running', 'failed', 'stopped'])).status, 'running');
    assert.deepEqual(await ranOnHost(), [], 'switching ran planted programs on the host');

    // Running: roll back to the version the workspace was created at.
    const versions = await server.api<{ versions: { id: string; commit: string }[] }>(
      `/api/workspaces/${id}/versions`,
    );
    const created = versions.body.versions.find((v) => v.commit === main);
    assert.ok(created, JSON.stringify(versions.body));
    const rolled = await server.api<Workspace>(`/api/workspaces/${id}/rollback`, {
      method: 'POST',
      body: { versionId: created.id },
    });
    assert.equal(rolled.status, 200, JSON.stringify(rolled.body));
    assert.equal((await waitForStatus(server, id, ['running', 'failed', 'stopped'])).status, 'running');
    assert.deepEqual(await ranOnHost(), [], 'rolling back ran planted programs on the host');

    // Running: the planted stash is listed, without its signature program running.
    assert.deepEqual(
      (await stashes(id)).map((s) => s.message),
      ['planted'],
    );
    assert.deepEqual(await ranOnHost(), [], 'listing stashes ran planted programs on the host');

    // Running: a branch at another ref switches the copied checkout.
    const child = await branch(id, 'feature');
    assert.equal(child.commit, featureCommit);
    assert.deepEqual(await ranOnHost(), [], 'branching a running workspace ran planted programs on the host');

    // Stopped: stash listing and branching still need git.
    const stopped = await server.api(`/api/workspaces/${id}/stop`, { method: 'POST' });
    assert.equal(stopped.status, 200, JSON.stringify(stopped.body));
    assert.equal((await waitForStatus(server, id, ['stopped'])).status, 'stopped');
    assert.deepEqual(
      (await stashes(id)).map((s) => s.message),
      ['planted'],
    );
    assert.deepEqual(
      await ranOnHost(),
      [],
      'listing stashes of a stopped workspace ran planted programs on the host',
    );
    const refused = await server.api<{ code: string }>(`/api/workspaces/${id}/switch`, {
      method: 'POST',
      body: { ref: 'feature' },
    });
    assert.equal(refused.body.code, 'CONFLICT', JSON.stringify(refused.body));
    const fromStopped = await branch(id, 'feature');
    assert.equal(fromStopped.commit, featureCommit);
    assert.deepEqual(await ranOnHost(), [], 'branching a stopped workspace ran planted programs on the host');

    // NixSpace's own git ran none of them inside either.
    for (const repo of [repoOf(id), repoOf(child.id), repoOf(fromStopped.id)]) {
      assert.deepEqual(await ranInside(repo), [], `planted programs ran in ${repo}`);
    }
  });

  it('runs no .git/hooks/post-checkout on the host when switching or branching', async () => {
    await emptyHostMarkers();
    const workspace = await createAndWaitRunning<Workspace>(server, git.url('planted.git'));
    const id = workspace.id;
    await plant(repoOf(id), '.git/hooks');
    await provePlantIsLive(id, ['post-checkout']);

    const child = await branch(id, 'feature');
    assert.equal(child.commit, featureCommit);
    assert.deepEqual(await ranOnHost(), [], 'branching ran the post-checkout hook on the host');

    const switched = await server.api<Workspace>(`/api/workspaces/${id}/switch`, {
      method: 'POST',
      body: { ref: 'feature' },
    });
    assert.equal(switched.status, 200, JSON.stringify(switched.body));
    assert.equal((await waitForStatus(server, id, ['running', 'failed', 'stopped'])).status, 'running');
    assert.deepEqual(await ranOnHost(), [], 'switching ran the post-checkout hook on the host');
    for (const repo of [repoOf(id), repoOf(child.id)]) {
      assert.deepEqual(await ranInside(repo), [], `the post-checkout hook ran in ${repo}`);
    }
  });
});
