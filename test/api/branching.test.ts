// Branching a workspace like code: a new workspace whose parent is the old one, starting from its
// files (uncommitted work included), at another ref, with its environment built as a child of the
// parent's and the difference recorded. The parent is never touched.

import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Workspace as WireWorkspace } from '../../src/wire/workspaces.js';
import { commitFiles, git as gitIn, makeRepo } from '../support/git-fixtures.js';
import { type GitHttpServer, startGitHttpServer } from '../support/git-http-server.js';
import {
  asAnotherUser,
  openTerminal,
  startTestServer,
  type TestServer,
  waitForStatus,
} from '../support/nixspace-server.js';
import { workspaceGit } from '../support/workspace-git.js';

type Workspace = WireWorkspace<{ hash: string; services: { name: string; status: string }[] }>;

describe('branching a workspace', () => {
  let git: GitHttpServer;
  let server: TestServer;
  let redisCommit: string;

  before(async () => {
    git = await startGitHttpServer();
    await makeRepo(git.root, 'app.git', { files: { 'notes.txt': 'main\n', 'other.txt': 'other\n' } });
    const gitDir = join(git.root, 'app.git');
    const parent = await gitIn(['--git-dir', gitDir, 'rev-parse', 'refs/heads/main']);
    redisCommit = await commitFiles(gitDir, {
      parent,
      files: { 'docker-compose.yml': 'services:\n  cache:\n    image: redis:7\n' },
      message: 'Add a cache',
    });
    await gitIn(['--git-dir', gitDir, 'update-ref', 'refs/heads/with-redis', redisCommit]);
    server = await startTestServer();
  });

  after(async () => {
    await server?.close();
    await git?.close();
  });

  const repoOf = (id: string) => join(server.dataDir, 'workspaces', id, 'repo');

  /** A workspace of a repository of the git server, once it runs (or failed). */
  async function created(repo: string): Promise<Workspace> {
    const response = await server.api<Workspace>('/api/workspaces', {
      method: 'POST',
      body: { repoUrl: git.url(repo) },
    });
    return (await waitForStatus(server, response.body.id, ['running', 'failed'])) as unknown as Workspace;
  }

  it('starts from the parent’s files at another ref, owns them, and records lineage and the environment diff', async () => {
    const parent = await created('app.git');
    assert.equal(parent.status, 'running');
    // Uncommitted work in the parent comes along to the branch.
    await writeFile(join(repoOf(parent.id), 'other.txt'), 'work in progress\n');

    const branched = await server.api<Workspace>(`/api/workspaces/${parent.id}/branch`, {
      method: 'POST',
      body: { ref: 'with-redis' },
    });
    assert.equal(branched.status, 201, JSON.stringify(branched.body));
    assert.equal(branched.body.parentId, parent.id);
    const child = (await waitForStatus(server, branched.body.id, [
      'running',
      'failed',
    ])) as unknown as Workspace;
    assert.equal(child.status, 'running', JSON.stringify(child.steps));
    assert.equal(child.commit, redisCommit);
    assert.equal(child.branch, 'with-redis');
    assert.match(
      child.steps.find((s) => s.name === 'checkout')?.detail ?? '',
      /files of .* (cloned copy-on-write|copied); branch with-redis; 1 changed files carried over/,
    );
    assert.equal(await readFile(join(repoOf(child.id), 'other.txt'), 'utf8'), 'work in progress\n');
    assert.equal(child.environment?.services[0]?.name, 'redis');
    assert.equal(child.environment?.services[0]?.status, 'running');

    // The branch owns its files: changing them leaves the parent as it was.
    await writeFile(join(repoOf(child.id), 'notes.txt'), 'only in the branch\n');
    assert.equal(await readFile(join(repoOf(parent.id), 'notes.txt'), 'utf8'), 'main\n');
    const parentHead = (await workspaceGit(repoOf(parent.id), ['rev-parse', 'HEAD'])).trim();
    assert.equal(parentHead, parent.commit);
    // Its shell runs in the branch's own checkout.
    const terminal = await openTerminal(server, child.id);
    terminal.type('cat notes.txt\r');
    await terminal.waitFor((t) => t.output.includes('only in the branch\r\n'));
    terminal.close();

    const lineage = await server.api<{ parent: Workspace | null; children: Workspace[] }>(
      `/api/workspaces/${parent.id}/lineage`,
    );
    assert.deepEqual(
      lineage.body.children.map((c) => c.id),
      [child.id],
    );
    const up = await server.api<{ parent: Workspace | null }>(`/api/workspaces/${child.id}/lineage`);
    assert.equal(up.body.parent?.id, parent.id);

    const versions = await server.api<{
      versions: { parentEnvironmentId: string | null; message: string; changes: { summary: string } }[];
    }>(`/api/workspaces/${child.id}/versions`);
    assert.equal(versions.body.versions.length, 1);
    assert.equal(versions.body.versions[0]?.changes.summary, '+redis 7');
    assert.match(versions.body.versions[0]?.message ?? '', /^branched from .* at with-redis$/);
    assert.notEqual(versions.body.versions[0]?.parentEnvironmentId, null);

    // Any two of the owner's environments compare, both ways, over REST and GraphQL.
    const childEnv = (versions.body.versions[0] as unknown as { environmentId: string }).environmentId;
    const parentEnv = versions.body.versions[0]!.parentEnvironmentId!;
    const diff = await server.api<{
      summary: string;
      changes: { kind: string; name: string; change: string }[];
    }>(`/api/environments/diff?from=${parentEnv}&to=${childEnv}`);
    assert.equal(diff.status, 200);
    assert.equal(diff.body.summary, '+redis 7');
    assert.deepEqual(
      diff.body.changes.map((c) => [c.kind, c.name, c.change]),
      [['service', 'redis', 'added']],
    );
    const back = await server.graphql<{ environmentDiff: { summary: string; fromId: string } }>(
      'query($from: ID!, $to: ID!) { environmentDiff(from: $from, to: $to) { summary fromId } }',
      { from: childEnv, to: parentEnv },
    );
    assert.equal(back.data?.environmentDiff.summary, '-redis 7');
    assert.equal(back.data?.environmentDiff.fromId, childEnv);
    const family = await server.graphql<{
      environmentLineage: { parent: { id: string } | null; children: { id: string }[] };
    }>('query($id: ID!) { environmentLineage(id: $id) { parent { id } children { id } } }', { id: child.id });
    assert.equal(family.data?.environmentLineage.parent?.id, parent.id);
    assert.deepEqual(family.data?.environmentLineage.children, []);

    const unknown = await server.api<{ code: string }>(
      `/api/environments/diff?from=${parentEnv}&to=00000000-0000-4000-8000-000000000000`,
    );
    assert.equal(unknown.status, 404);
    const missing = await server.api<{ code: string }>(`/api/environments/diff?from=${parentEnv}`);
    assert.equal(missing.status, 400);
    const otherCookie = (await asAnotherUser(server, 'someone-else@example.test')).cookie;
    const foreign = await server.api(`/api/environments/diff?from=${parentEnv}&to=${childEnv}`, {
      cookie: otherCookie,
    });
    assert.equal(foreign.status, 404, "another person's environments are not theirs to compare");
  });

  it('branches with changed versions and packages, leaving the parent as it was', async () => {
    await makeRepo(git.root, 'node-app.git', {
      files: { '.nvmrc': '20\n', 'package.json': '{"name":"node-app","version":"1.0.0"}' },
    });
    const parent = await created('node-app.git');
    assert.equal(parent.status, 'running');
    const wanted = (ws: Workspace, name: string) =>
      (
        ws as unknown as { environment: { report: { name: string; wanted: string | null }[] } }
      ).environment.report.find((r) => r.name === name)?.wanted;
    assert.equal(wanted(parent, 'node'), '20');
    assert.match(
      parent.steps.find((st) => st.name === 'install')?.detail ?? '',
      /npm install --no-package-lock \(installed/,
    );

    // A plain branch has the parent's install already, with its files: nothing runs again.
    const plain = await server.api<Workspace>(`/api/workspaces/${parent.id}/branch`, {
      method: 'POST',
      body: {},
    });
    const twin = (await waitForStatus(server, plain.body.id, ['running', 'failed'])) as unknown as Workspace;
    assert.match(
      twin.steps.find((st) => st.name === 'install')?.detail ?? '',
      /npm install --no-package-lock \(unchanged/,
    );

    const result = await server.graphql<{ branchEnvironment: { id: string; parentId: string } }>(
      `mutation($id: ID!) { branchEnvironment(id: $id, ref: "main", changes: {
        toolchains: [{ name: "node", version: "22" }], services: [{ name: "redis", version: "7" }], packages: ["jq"]
      }) { id parentId } }`,
      { id: parent.id },
    );
    const branchId = result.data?.branchEnvironment.id;
    assert.ok(branchId, JSON.stringify(result));
    const child = (await waitForStatus(server, branchId, ['running', 'failed'])) as unknown as Workspace;
    assert.equal(child.status, 'running', JSON.stringify(child.steps));
    assert.equal(wanted(child, 'node'), '22');
    assert.equal(child.environment?.services[0]?.name, 'redis');
    assert.equal(child.environment?.services[0]?.status, 'running');
    assert.match(
      child.steps.find((s) => s.name === 'detect')?.detail ?? '',
      /branch changes: node 22, redis 7, \+jq/,
    );
    const versions = await server.api<{
      versions: { changes: { summary: string; changes: { kind: string; name: string; change: string }[] } }[];
    }>(`/api/workspaces/${child.id}/versions`);
    assert.equal(versions.body.versions[0]?.changes.summary, 'node 20 → 22, +redis 7, 1 other change');
    assert.deepEqual(
      versions.body.versions[0]?.changes.changes.map((c) => `${c.kind} ${c.name} ${c.change}`),
      ['toolchain node changed', 'service redis added', 'system-package jq added'],
    );

    // The parent keeps its environment, and a switch of the branch keeps the branch's changes.
    const parentNow = (await server.api<Workspace>(`/api/workspaces/${parent.id}`)).body;
    assert.equal(wanted(parentNow, 'node'), '20');
    assert.equal(parentNow.environment?.hash, parent.environment?.hash);
    assert.deepEqual(parentNow.environment?.services, []);
    const switched = await server.api(`/api/workspaces/${child.id}/switch`, {
      method: 'POST',
      body: { ref: 'main' },
    });
    assert.equal(switched.status, 200, JSON.stringify(switched.body));
    const after = (await waitForStatus(server, child.id, [
      'running',
      'failed',
      'stopped',
    ])) as unknown as Workspace;
    assert.equal(wanted(after, 'node'), '22');
  });

  it('refuses changes it cannot make, naming them, and creates nothing', async () => {
    const parent = await created('app.git');
    const count = async () =>
      (await server.api<{ workspaces: unknown[] }>('/api/workspaces')).body.workspaces.length;
    const before = await count();
    const cases: [unknown, RegExp][] = [
      [{ toolchains: { node: 'banana' } }, /"banana" is not a version/],
      [
        { toolchains: { cobol: '85' } },
        /cobol is not a toolchain NixSpace provides; use one of node, python/,
      ],
      [{ services: { oracle: '19' } }, /oracle is not a service NixSpace runs/],
      [{ packages: ['rm -rf /'] }, /"rm -rf \/" is not a package name/],
      [{ toolchains: 'node 22' }, /toolchains/],
    ];
    for (const [changes, message] of cases) {
      const refused = await server.api<{ code: string; message: string }>(
        `/api/workspaces/${parent.id}/branch`,
        {
          method: 'POST',
          body: { ref: 'main', changes },
        },
      );
      assert.equal(refused.status, 400, JSON.stringify(changes));
      assert.equal(refused.body.code, 'BAD_REQUEST');
      assert.match(refused.body.message, message);
    }
    assert.equal(await count(), before, 'no workspace was created');
  });

  it('branches over GraphQL at the same commit, and refuses unknown refs and workspaces', async () => {
    const parent = await created('app.git');
    const result = await server.graphql<{ branchEnvironment: { id: string; parentId: string } }>(
      'mutation($id: ID!, $ref: String!) { branchEnvironment(id: $id, ref: $ref) { id parentId } }',
      { id: parent.id, ref: 'main' },
    );
    const branchId = result.data?.branchEnvironment.id;
    assert.ok(branchId, JSON.stringify(result));
    assert.equal(result.data?.branchEnvironment.parentId, parent.id);
    const child = (await waitForStatus(server, branchId, ['running', 'failed'])) as unknown as Workspace;
    assert.equal(child.status, 'running');
    assert.equal(child.commit, parent.commit);

    const unknownRef = await server.api<Workspace>(`/api/workspaces/${parent.id}/branch`, {
      method: 'POST',
      body: { ref: 'no-such-branch' },
    });
    // The branch is created, then fails at resolve naming the ref, leaving no files behind.
    const failed = (await waitForStatus(server, unknownRef.body.id, [
      'running',
      'failed',
    ])) as unknown as Workspace & {
      error: { code: string; message: string };
    };
    assert.equal(failed.status, 'failed');
    assert.equal(failed.error.code, 'REF_NOT_FOUND');
    assert.match(failed.error.message, /no-such-branch/);
    await assert.rejects(readFile(join(repoOf(failed.id), 'notes.txt')));

    const missing = await server.api<{ code: string }>(
      '/api/workspaces/00000000-0000-4000-8000-000000000000/branch',
      {
        method: 'POST',
        body: {},
      },
    );
    assert.equal(missing.status, 404);
    assert.equal(missing.body.code, 'NOT_FOUND');
  });
  it('copies the install record without following a symlink planted in its place', async () => {
    // The sandbox mounts a /tmp of its own: a host file there is out of the workspace's sight.
    const secretDir = await mkdtemp(join(tmpdir(), 'nixspace-host-secret-'));
    try {
      const secret = join(secretDir, 'signing-key');
      await writeFile(secret, 'host secret\n');
      const parent = await created('app.git');
      const record = join(server.dataDir, 'workspaces', parent.id, '.nixspace', 'installed.json');
      await mkdir(join(record, '..'), { recursive: true });
      await rm(record, { force: true });
      await symlink(secret, record);
      const branched = await server.api<Workspace>(`/api/workspaces/${parent.id}/branch`, {
        method: 'POST',
        body: {},
      });
      assert.equal(branched.status, 201, JSON.stringify(branched.body));
      const child = (await waitForStatus(server, branched.body.id, [
        'running',
        'failed',
      ])) as unknown as Workspace;
      assert.equal(child.status, 'running', JSON.stringify(child.steps));
      const copied = await readFile(
        join(server.dataDir, 'workspaces', child.id, '.nixspace', 'installed.json'),
        'utf8',
      ).catch(() => '');
      assert.doesNotMatch(copied, /host secret/);
    } finally {
      await rm(secretDir, { recursive: true, force: true });
    }
  });
});
