// The brief's limits (issue 12): a workspace is deleted a lifetime after it was made unless its
// owner keeps it, with the warning in the API; a running workspace nothing is open in hibernates
// (its processes stop, its files stay) and opening it resumes it. Real servers, real sandboxes;
// every wait is for a condition.

import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { pidsWithEnv } from '../../src/runtime/host/host-processes.js';
import type { Job, JobPage } from '../../src/wire/jobs.js';
import type { Workspace } from '../../src/wire/workspaces.js';
import { makeRepo } from '../support/git-fixtures.js';
import { type GitHttpServer, startGitHttpServer } from '../support/git-http-server.js';
import {
  createAndWaitRunning,
  openTerminal,
  startTestServer,
  type TestServer,
  waitForStatus,
} from '../support/nixspace-server.js';

const LIFETIME_MS = 6000;
const IDLE_MS = 1500;

/** Polls until `check` holds, or fails naming what was awaited. */
async function waitUntil(what: string, check: () => Promise<boolean> | boolean, timeoutMs = 30_000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

async function sandboxPids(id: string): Promise<number[]> {
  return pidsWithEnv('NIXSPACE_WORKSPACE_ID', id);
}

/** Runs a job in the workspace and resolves with its status and stdout once it ended. */
async function job(server: TestServer, id: string, command: string) {
  const started = await server.api<Job>('/api/jobs', { method: 'POST', body: { command, target: id } });
  assert.equal(started.status, 201, JSON.stringify(started.body));
  let page: JobPage | undefined;
  await waitUntil(`job ${command} ended`, async () => {
    page = (await server.api<JobPage>(`/api/jobs/${started.body.id}`)).body;
    return page.job.status !== 'running' && page.complete;
  });
  const stdout = page!.events
    .filter((e) => e.stream === 'stdout')
    .map((e) => e.chunk)
    .join('');
  return { status: page!.job.status, stdout };
}

describe('workspace lifetime', () => {
  let gitServer: GitHttpServer;
  let server: TestServer;

  before(async () => {
    gitServer = await startGitHttpServer();
    await makeRepo(gitServer.root, 'app.git');
    server = await startTestServer({
      config: { workspaces: { lifetimeMs: LIFETIME_MS, hibernateAfterMs: 0 } },
    });
  });

  after(async () => {
    await server?.close();
    await gitServer?.close();
  });

  it('warns in the API, deletes at the deadline like a delete does, and spares a kept workspace', async () => {
    const repoUrl = gitServer.url('app.git');
    const doomed = await server.api<Workspace>('/api/workspaces', { method: 'POST', body: { repoUrl } });
    const kept = await server.api<Workspace>('/api/workspaces', { method: 'POST', body: { repoUrl } });
    assert.equal(doomed.status, 201, JSON.stringify(doomed.body));
    // The deadline is a lifetime after creation; the warning (an hour before) is already on.
    const { lifetime } = doomed.body;
    assert.equal(Date.parse(lifetime.expiresAt!) - Date.parse(doomed.body.createdAt), LIFETIME_MS);
    assert.equal(lifetime.expiring, true);
    assert.equal(lifetime.keptAt, null);

    const keep = await server.api<Workspace>(`/api/workspaces/${kept.body.id}/keep`, { method: 'POST' });
    assert.equal(keep.status, 200, JSON.stringify(keep.body));
    assert.equal(keep.body.lifetime.expiresAt, null);
    assert.equal(keep.body.lifetime.expiring, false);
    assert.ok(keep.body.lifetime.keptAt);

    // Deleted once it is at rest past its deadline, never in the middle of being made.
    const gone = (await waitForStatus(server, doomed.body.id, ['deleted'], 60_000)) as unknown as Workspace;
    assert.ok(Date.now() >= Date.parse(lifetime.expiresAt!));
    assert.equal(gone.steps.find((s) => s.name === 'ready')?.status, 'done', JSON.stringify(gone.steps));
    assert.equal(existsSync(server.nixspace.workspaces.workspaceDir(doomed.body.id)), false);
    assert.deepEqual(await sandboxPids(doomed.body.id), []);
    const listed = await server.api<{ workspaces: Workspace[] }>('/api/workspaces');
    assert.ok(!listed.body.workspaces.some((ws) => ws.id === doomed.body.id));

    // The kept one was past its deadline too, and runs on with its files.
    const survivor = await waitForStatus(server, kept.body.id, ['running', 'failed']);
    assert.equal(survivor.status, 'running');
    assert.equal(existsSync(server.nixspace.workspaces.workspaceDir(kept.body.id)), true);
    assert.deepEqual((await server.nixspace.sweeper.sweep()).expired, []);
  });

  it('shows the lifetime in GraphQL, and keepEnvironment keeps', async () => {
    const created = await server.graphql<{ createEnvironment: { id: string } }>(
      'mutation ($url: String!) { createEnvironment(repoUrl: $url) { id } }',
      { url: gitServer.url('app.git') },
    );
    const id = created.data!.createEnvironment.id;
    const shown = await server.graphql<{
      getEnvironment: { lifetime: { expiresAt: string | null; expiring: boolean }; idle: unknown };
    }>(
      'query ($id: ID!) { getEnvironment(id: $id) { lifetime { expiresAt expiring } idle { hibernatedAt } } }',
      {
        id,
      },
    );
    assert.equal(shown.errors, undefined, JSON.stringify(shown.errors));
    assert.ok(shown.data!.getEnvironment.lifetime.expiresAt);
    assert.equal(shown.data!.getEnvironment.lifetime.expiring, true);
    const kept = await server.graphql<{ keepEnvironment: { lifetime: { expiresAt: null; keptAt: string } } }>(
      'mutation ($id: ID!) { keepEnvironment(id: $id) { lifetime { expiresAt keptAt } } }',
      { id },
    );
    assert.equal(kept.errors, undefined, JSON.stringify(kept.errors));
    assert.equal(kept.data!.keepEnvironment.lifetime.expiresAt, null);
    assert.ok(kept.data!.keepEnvironment.lifetime.keptAt);
    await waitForStatus(server, id, ['running', 'failed']);
    await server.api(`/api/workspaces/${id}`, { method: 'DELETE' });
  });

  it("refuses to keep another person's workspace as if it did not exist", async () => {
    const { asAnotherUser } = await import('../support/nixspace-server.js');
    const other = await asAnotherUser(server, 'other@example.test');
    const created = await server.api<Workspace>('/api/workspaces', {
      method: 'POST',
      body: { repoUrl: gitServer.url('app.git') },
    });
    const refused = await other.api<{ code: string }>(`/api/workspaces/${created.body.id}/keep`, {
      method: 'POST',
    });
    assert.equal(refused.status, 404);
    assert.equal(refused.body.code, 'NOT_FOUND');
    await waitForStatus(server, created.body.id, ['running', 'failed', 'deleted'], 60_000);
    await server.api(`/api/workspaces/${created.body.id}`, { method: 'DELETE' });
  });
});

describe('idle hibernation', () => {
  let gitServer: GitHttpServer;
  let server: TestServer;
  let id: string;

  before(async () => {
    gitServer = await startGitHttpServer();
    await makeRepo(gitServer.root, 'app.git');
    server = await startTestServer({ config: { workspaces: { lifetimeMs: 0, hibernateAfterMs: IDLE_MS } } });
    id = (await createAndWaitRunning<Workspace>(server, gitServer.url('app.git'))).id;
  });

  after(async () => {
    await server?.close();
    await gitServer?.close();
  });

  it('hibernates a workspace nothing is open in, its processes gone and its files kept', async () => {
    assert.equal((await job(server, id, 'echo before-hibernate > kept.txt')).status, 'succeeded');
    const hibernated = (await waitForStatus(server, id, ['hibernated'])) as unknown as Workspace;
    assert.ok(hibernated.idle.hibernatedAt);
    assert.equal(hibernated.idle.idleSince, null);
    assert.equal(hibernated.lifetime.expiresAt, null, 'a lifetime of 0 keeps workspaces');
    await waitUntil('the sandbox is gone', async () => (await sandboxPids(id)).length === 0);
    assert.equal(existsSync(`${server.nixspace.workspaces.workspaceDir(id)}/repo/kept.txt`), true);
  });

  it('resumes when a terminal opens, with its files, and stays up while the terminal is open', async () => {
    await waitForStatus(server, id, ['hibernated']);
    const terminal = await openTerminal(server, id);
    try {
      terminal.type('cat kept.txt\r');
      await terminal.waitFor((t) => t.output.includes('before-hibernate'), 30_000);
      const resumed = (await waitForStatus(server, id, ['running'])) as unknown as Workspace;
      assert.equal(resumed.idle.hibernatedAt, null);
      assert.equal(resumed.idle.idleSince, null, 'an open terminal is use');
      // Well past the idle timeout with the terminal open: a look hibernates nothing.
      const openedAt = Date.now();
      await waitUntil('twice the idle timeout passed', () => Date.now() - openedAt > 2 * IDLE_MS);
      assert.deepEqual((await server.nixspace.sweeper.sweep()).hibernated, []);
      assert.equal((await server.api<Workspace>(`/api/workspaces/${id}`)).body.status, 'running');
      terminal.type('echo still-here\r');
      await terminal.waitFor((t) => t.output.includes('still-here'));
    } finally {
      terminal.close();
    }
  });

  it('resumes when the page asks (POST resume), and a job start resumes it too', async () => {
    await waitForStatus(server, id, ['hibernated']);
    const resumed = await server.api<Workspace>(`/api/workspaces/${id}/resume`, { method: 'POST' });
    assert.equal(resumed.status, 200, JSON.stringify(resumed.body));
    assert.equal(resumed.body.status, 'running');
    assert.ok(resumed.body.idle.hibernatesAt, 'idle again, it says when it hibernates');

    await waitForStatus(server, id, ['hibernated']);
    const read = await job(server, id, 'cat kept.txt');
    assert.equal(read.status, 'succeeded');
    assert.equal(read.stdout.trim(), 'before-hibernate');
  });

  it('a stop of a hibernated workspace leaves it stopped, so opening it no longer starts it', async () => {
    await waitForStatus(server, id, ['hibernated']);
    const stopped = await server.api<Workspace>(`/api/workspaces/${id}/stop`, { method: 'POST' });
    assert.equal(stopped.body.status, 'stopped');
    const resumed = await server.api<Workspace>(`/api/workspaces/${id}/resume`, { method: 'POST' });
    assert.equal(resumed.body.status, 'stopped');
    const started = await server.api<Workspace>(`/api/workspaces/${id}/start`, { method: 'POST' });
    assert.equal(started.body.status, 'running');
  });
});
