// The spine end to end through the real HTTP API: a repository served over smart HTTP on
// loopback becomes a running workspace with a shell in a bubblewrap sandbox, on both databases.

import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import WebSocket from 'ws';
import { detectHierarchies } from '../../src/runtime/cgroups/cgroup-hierarchies.js';
import { pidsWithEnv } from '../../src/runtime/host/host-processes.js';
import type { Workspace as WireWorkspace } from '../../src/wire/workspaces.js';
import { testDatabases } from '../support/databases.js';
import {
  type MadeRepo,
  makeEmptyRepo,
  makeLargeRepo,
  makeRepo,
  type SilentHost,
  startSilentHost,
} from '../support/git-fixtures.js';
import { type GitHttpServer, startGitHttpServer } from '../support/git-http-server.js';
import {
  asAnotherUser,
  openTerminal,
  signIn,
  startTestServer,
  type TestServer,
  waitForStatus,
} from '../support/nixspace-server.js';

type Workspace = WireWorkspace;

for (const backend of testDatabases) {
  describe(`workspaces API on ${backend.name}`, { skip: backend.skip }, () => {
    let gitServer: GitHttpServer;
    let silent: SilentHost;
    let repo: MadeRepo;
    let server: TestServer;
    let closeDb: () => Promise<void>;

    before(async () => {
      gitServer = await startGitHttpServer();
      silent = await startSilentHost();
      repo = await makeRepo(gitServer.root, 'app.git', {
        commits: 2,
        branches: ['feature'],
        tags: [{ name: 'v1', at: 0, annotated: true }],
        files: { 'README.md': '# app\n' },
      });
      await makeEmptyRepo(gitServer.root, 'empty.git');
      await makeLargeRepo(gitServer.root, 'large.git', 3 * 1024 * 1024);
      const db = await backend.open();
      await db.store.close();
      closeDb = db.close.bind(db);
      server = await startTestServer({
        databaseUrl: db.databaseUrl,
        config: { git: { timeoutMs: 1500, maxRepoBytes: 1024 * 1024 } },
      });
    });

    after(async () => {
      await server?.close();
      await closeDb?.().catch(() => {});
      await silent?.close();
      await gitServer?.close();
    });

    async function create(repoUrl: string, ref?: string): Promise<Workspace> {
      const { status, body } = await server.api<Workspace>('/api/workspaces', {
        method: 'POST',
        body: { repoUrl, ref },
      });
      assert.equal(status, 201, JSON.stringify(body));
      return body;
    }

    async function assertNothingLeft(id: string) {
      assert.equal(existsSync(join(server.dataDir, 'workspaces', id)), false, 'workspace directory removed');
      const hierarchies = detectHierarchies();
      assert.ok(hierarchies.length > 0, 'this host has writable cgroups to check');
      for (const hierarchy of hierarchies) {
        assert.equal(existsSync(join(hierarchy.parent, id)), false, `no cgroup left in ${hierarchy.parent}`);
      }
      const bwraps = await pidsWithEnv('NIXSPACE_WORKSPACE_ID', id);
      assert.deepEqual(bwraps, [], 'no process of the workspace is left');
    }

    it('creates a workspace over GraphQL and runs `git log` in its terminal', async () => {
      const created = await server.graphql<{ createEnvironment: { id: string; status: string } }>(
        'mutation($url: String!, $ref: String) { createEnvironment(repoUrl: $url, ref: $ref) { id status } }',
        { url: gitServer.url('app.git'), ref: 'feature' },
      );
      assert.equal(created.errors, undefined, JSON.stringify(created.errors));
      const id = created.data!.createEnvironment.id;
      await waitForStatus(server, id, ['running', 'failed']);
      const got = await server.graphql<{ getEnvironment: Workspace & { urls: { terminal: string } } }>(
        'query($id: ID!) { getEnvironment(id: $id) { id status commit branch error { code message } steps { name status durationMs } urls { terminal } } }',
        { id },
      );
      const ws = got.data!.getEnvironment;
      assert.equal(ws.status, 'running', JSON.stringify(ws.error));
      assert.equal(ws.commit, repo.branches.feature);
      assert.equal(ws.branch, 'feature');
      assert.deepEqual(
        ws.steps.map((s) => s.name),
        ['resolve', 'fetch', 'checkout', 'detect', 'build', 'sandbox', 'install', 'services', 'ready'],
      );
      for (const step of ws.steps) {
        assert.ok(['done', 'skipped'].includes(step.status), `${step.name} is ${step.status}`);
        assert.equal(typeof step.durationMs, 'number', `${step.name} has a duration`);
      }
      assert.equal(ws.urls.terminal, `/api/workspaces/${id}/terminal`);

      const terminal = await openTerminal(server, id);
      terminal.type('git log -1 --format=%H; echo "at=$PWD"\r');
      await terminal.waitFor((t) => t.output.includes(repo.branches.feature!));
      await terminal.waitFor((t) =>
        t.output.includes(`at=${join(server.dataDir, 'workspaces', id, 'repo')}\r`),
      );
      terminal.close();
    });

    it('reattaches to the same shell after a reconnect and replays its output', async () => {
      const ws = await create(gitServer.url('app.git'));
      await waitForStatus(server, ws.id, ['running']);
      const first = await openTerminal(server, ws.id);
      await first.waitFor((t) => t.messages.some((m) => m.type === 'hello'));
      const terminalId = String(first.messages.find((m) => m.type === 'hello')!.terminalId);
      first.type('export MARK=kept-$((40+2)); echo $MARK\r');
      await first.waitFor((t) => t.output.includes('kept-42'));
      first.close();
      await first.closed;

      const again = await openTerminal(server, ws.id, { terminal: terminalId });
      await again.waitFor((t) => t.messages.some((m) => m.type === 'hello'));
      assert.deepEqual(again.messages[0], { type: 'hello', terminalId, replayed: true, openedBy: 'owner' });
      await again.waitFor((t) => t.output.includes('kept-42'));
      again.type('echo "same shell: $MARK"\r');
      await again.waitFor((t) => t.output.includes('same shell: kept-42'));
      again.close();
    });

    it('streams progress over the events WebSocket until the workspace runs', async () => {
      const ws = await create(gitServer.url('app.git'), 'v1');
      const socket = new WebSocket(`${server.url.replace('http', 'ws')}/api/workspaces/${ws.id}/events`, {
        headers: { cookie: server.cookie },
      });
      const statuses: string[] = [];
      await new Promise<void>((resolve, reject) => {
        socket.on('message', (data) => {
          const event = JSON.parse(String(data)) as { type: string; workspace?: Workspace };
          if (event.type !== 'workspace') return;
          if (statuses.at(-1) !== event.workspace!.status) statuses.push(event.workspace!.status);
          if (event.workspace!.status === 'running') resolve();
          if (event.workspace!.status === 'failed') reject(new Error(JSON.stringify(event.workspace!.error)));
        });
        socket.on('error', reject);
      });
      socket.close();
      assert.equal(statuses.at(-1), 'running');
      // Whatever the first snapshot caught, the statuses only move forward.
      const order = ['pending', 'fetching', 'building', 'starting', 'running'];
      assert.deepEqual(
        [...statuses].sort((a, b) => order.indexOf(a) - order.indexOf(b)),
        statuses,
      );
      const done = await waitForStatus(server, ws.id, ['running']);
      assert.equal(done.commit, repo.tags.v1);
    });

    it('keeps files across stop and start, and removes them on delete', async () => {
      const ws = await create(gitServer.url('app.git'));
      await waitForStatus(server, ws.id, ['running']);
      const t1 = await openTerminal(server, ws.id);
      t1.type("echo survived > notes.txt && echo wr''itten\r");
      await t1.waitFor((t) => t.output.includes('written'));

      const stopped = await server.api<Workspace>(`/api/workspaces/${ws.id}/stop`, { method: 'POST' });
      assert.equal(stopped.body.status, 'stopped');
      await t1.closed;
      const refused = await openTerminal(server, ws.id);
      assert.equal(await refused.closed, 4409);
      assert.equal(refused.messages[0]?.code, 'CONFLICT');

      const started = await server.api<Workspace>(`/api/workspaces/${ws.id}/start`, { method: 'POST' });
      assert.equal(started.body.status, 'running');
      const t2 = await openTerminal(server, ws.id);
      t2.type('cat notes.txt\r');
      await t2.waitFor((t) => t.output.includes('survived'));
      t2.close();

      const deleted = await server.api(`/api/workspaces/${ws.id}`, { method: 'DELETE' });
      assert.equal(deleted.status, 204);
      const after = await server.api<Workspace>(`/api/workspaces/${ws.id}`);
      assert.equal(after.body.status, 'deleted');
      const list = await server.api<{ workspaces: Workspace[] }>('/api/workspaces');
      assert.ok(!list.body.workspaces.some((w) => w.id === ws.id), 'deleted workspaces leave the list');
      await assertNothingLeft(ws.id);
    });

    describe('bad input', () => {
      it('refuses a malformed URL and creates nothing', async () => {
        const before = (await server.api<{ workspaces: Workspace[] }>('/api/workspaces')).body.workspaces
          .length;
        const { status, body } = await server.api<{ code: string; message: string }>('/api/workspaces', {
          method: 'POST',
          body: { repoUrl: 'ht!tp://exa mple' },
        });
        assert.equal(status, 400);
        assert.equal(body.code, 'INVALID_URL');
        assert.match(body.message, /ht!tp:\/\/exa mple/);
        const afterCount = (await server.api<{ workspaces: Workspace[] }>('/api/workspaces')).body.workspaces
          .length;
        assert.equal(afterCount, before);
      });

      it('refuses an unsupported scheme, naming it', async () => {
        const { status, body } = await server.api<{ code: string; message: string }>('/api/workspaces', {
          method: 'POST',
          body: { repoUrl: 'ftp://example.test/repo.git' },
        });
        assert.equal(status, 400);
        assert.equal(body.code, 'UNSUPPORTED_SCHEME');
        assert.match(body.message, /ftp/);
      });

      it('refuses an invalid ref name before doing any work', async () => {
        const { status, body } = await server.api<{ code: string }>('/api/workspaces', {
          method: 'POST',
          body: { repoUrl: gitServer.url('app.git'), ref: 'bad..ref' },
        });
        assert.equal(status, 400);
        assert.equal(body.code, 'BAD_REQUEST');
      });

      const failures: [string, () => string, string | undefined, string, RegExp][] = [
        [
          'a repository that does not exist',
          () => gitServer.url('missing.git'),
          undefined,
          'REPO_NOT_FOUND',
          /missing\.git/,
        ],
        [
          'a host that does not answer',
          () => silent.url('repo.git'),
          undefined,
          'HOST_UNREACHABLE',
          /127\.0\.0\.1/,
        ],
        [
          'a ref that does not exist',
          () => gitServer.url('app.git'),
          'no-such-branch',
          'REF_NOT_FOUND',
          /no-such-branch/,
        ],
        ['an empty repository', () => gitServer.url('empty.git'), undefined, 'EMPTY_REPOSITORY', /empty/i],
        [
          'a repository over the size limit',
          () => gitServer.url('large.git'),
          undefined,
          'REPO_TOO_LARGE',
          /limit/i,
        ],
      ];
      for (const [what, url, ref, code, message] of failures) {
        it(`fails ${what} with ${code} and leaves nothing behind`, async () => {
          const ws = await create(url(), ref);
          const failed = (await waitForStatus(
            server,
            ws.id,
            ['failed', 'running'],
            20_000,
          )) as unknown as Workspace;
          assert.equal(failed.status, 'failed');
          assert.equal(failed.error?.code, code);
          assert.match(failed.error!.message, message);
          assert.ok(failed.error?.step, 'the failing step is named');
          assert.equal(failed.steps.find((s) => s.name === failed.error!.step)?.status, 'failed');
          await assertNothingLeft(ws.id);
          if (code === 'REPO_TOO_LARGE') {
            const mirrors = existsSync(join(server.dataDir, 'mirrors'))
              ? await readdir(join(server.dataDir, 'mirrors'))
              : [];
            assert.ok(
              !mirrors.some((name) => name.includes('large')),
              `no partial mirror left: ${mirrors.join(', ')}`,
            );
          }
        });
      }

      it('answers a workspace id that does not exist with NOT_FOUND', async () => {
        const missing = '00000000-0000-4000-8000-000000000000';
        const rest = await server.api<{ code: string; message: string }>(`/api/workspaces/${missing}`);
        assert.equal(rest.status, 404);
        assert.equal(rest.body.code, 'NOT_FOUND');
        assert.match(rest.body.message, new RegExp(missing));
        const notUuid = await server.api<{ code: string }>('/api/workspaces/not-a-workspace');
        assert.equal(notUuid.status, 404);
        const gql = await server.graphql('query { getEnvironment(id: "nope") { id } }');
        assert.equal(gql.errors?.[0]?.extensions?.code, 'NOT_FOUND');
      });

      it('closes a terminal WebSocket without a valid session with 4401', async () => {
        const ws = await create(gitServer.url('app.git'));
        await waitForStatus(server, ws.id, ['running']);
        for (const cookie of [null, 'nixspace_session=forged-token']) {
          const terminal = await openTerminal(server, ws.id, { cookie });
          assert.equal(await terminal.closed, 4401);
          assert.equal(terminal.messages[0]?.code, 'UNAUTHENTICATED');
          assert.equal(terminal.output, '', 'no shell output leaks');
        }
      });

      it('refuses every API route without a session', async () => {
        const rest = await server.api<{ code: string }>('/api/workspaces', { cookie: null });
        assert.equal(rest.status, 401);
        assert.equal(rest.body.code, 'UNAUTHENTICATED');
        const create = await server.api<{ code: string }>('/api/workspaces', {
          method: 'POST',
          body: { repoUrl: gitServer.url('app.git') },
          cookie: null,
        });
        assert.equal(create.status, 401);
        const gql = await server.graphql('query { environments { id } }', {}, null);
        assert.equal(gql.errors?.[0]?.extensions?.code, 'UNAUTHENTICATED');
      });

      it('refuses a WebSocket from a foreign origin', async () => {
        const ws = await create(gitServer.url('app.git'));
        await waitForStatus(server, ws.id, ['running']);
        const socket = new WebSocket(`${server.url.replace('http', 'ws')}/api/workspaces/${ws.id}/terminal`, {
          headers: { cookie: server.cookie, origin: 'http://evil.test' },
        });
        const code = await new Promise<number>((resolve) => socket.on('close', resolve));
        assert.equal(code, 4403);
      });
    });

    it("hides one person's workspace from another", async () => {
      const ws = await create(gitServer.url('app.git'));
      await waitForStatus(server, ws.id, ['running']);
      const { cookie } = await asAnotherUser(server, `other-${Date.now()}@example.test`);
      const get = await server.api<{ code: string }>(`/api/workspaces/${ws.id}`, { cookie });
      assert.equal(get.status, 404);
      const stop = await server.api<{ code: string }>(`/api/workspaces/${ws.id}/stop`, {
        method: 'POST',
        cookie,
      });
      assert.equal(stop.status, 404);
      const terminal = await openTerminal(server, ws.id, { cookie });
      assert.equal(await terminal.closed, 4404);
      const list = await server.api<{ workspaces: Workspace[] }>('/api/workspaces', { cookie });
      assert.deepEqual(list.body.workspaces, []);
    });

    it('spends a sign-in link once', async () => {
      const link = await server.nixspace.ownerLoginLink();
      await signIn(server.url, link);
      const reused = await fetch(link, { redirect: 'manual' });
      assert.equal(reused.status, 303);
      assert.equal(reused.headers.get('location'), '/?signin=invalid');
      assert.equal(reused.headers.get('set-cookie'), null);
    });

    it('reconciles after a restart: cut-off creations fail with a reason, running ones resume', async () => {
      const running = await create(gitServer.url('app.git'));
      await waitForStatus(server, running.id, ['running']);
      const cut = await create(gitServer.url('app.git'));
      await waitForStatus(server, cut.id, ['running']);
      // Make the second look as if the server died while it was being fetched.
      await server.nixspace.store.db
        .updateTable('workspaces')
        .set({ status: 'fetching' })
        .where('id', '=', cut.id)
        .execute();

      await server.restart();

      const failed = (await server.api<Workspace>(`/api/workspaces/${cut.id}`)).body;
      assert.equal(failed.status, 'failed');
      assert.equal(failed.error?.code, 'INTERRUPTED');
      assert.match(failed.error!.message, /fetching/);
      await assertNothingLeft(cut.id);

      const resumed = (await server.api<Workspace>(`/api/workspaces/${running.id}`)).body;
      assert.equal(resumed.status, 'running');
      const terminal = await openTerminal(server, running.id);
      terminal.type('git log -1 --format=%H\r');
      await terminal.waitFor((t) => t.output.includes(repo.commits.at(-1)!));
      terminal.close();
    });
  });
}
