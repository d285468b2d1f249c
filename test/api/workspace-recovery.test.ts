// Nothing bricks a workspace (issue 11, item 9): `kill -9` of the sandbox's init left the
// workspace `failed` for good (start and stop refused it, a server restart did not help), so only
// delete was left, with its files.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { updateWorkspace } from '../../src/store/workspace-queries.js';
import type { Job, JobPage } from '../../src/wire/jobs.js';
import type { Workspace } from '../../src/wire/workspaces.js';
import { makeRepo } from '../support/git-fixtures.js';
import { type GitHttpServer, startGitHttpServer } from '../support/git-http-server.js';
import {
  createAndWaitRunning,
  startTestServer,
  type TestServer,
  waitForStatus,
} from '../support/nixspace-server.js';
import { sandboxInitPid } from '../support/sandbox-init.js';

describe('a workspace whose sandbox died', () => {
  let gitServer: GitHttpServer;
  let server: TestServer;
  let id: string;

  before(async () => {
    gitServer = await startGitHttpServer();
    await makeRepo(gitServer.root, 'app.git');
    server = await startTestServer();
    id = (await createAndWaitRunning<Workspace>(server, gitServer.url('app.git'))).id;
  });

  after(async () => {
    await server?.close();
    await gitServer?.close();
  });

  /** Runs a job in the workspace and resolves with its stdout once it ended. */
  async function job(command: string): Promise<{ status: string; stdout: string }> {
    const started = await server.api<Job>('/api/jobs', { method: 'POST', body: { command, target: id } });
    assert.equal(started.status, 201, JSON.stringify(started.body));
    for (;;) {
      const { body } = await server.api<JobPage>(`/api/jobs/${started.body.id}`);
      if (body.job.status !== 'running' && body.complete) {
        const stdout = body.events
          .filter((e) => e.stream === 'stdout')
          .map((e) => e.chunk)
          .join('');
        return { status: body.job.status, stdout };
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  async function killInit(): Promise<Workspace> {
    process.kill(await sandboxInitPid(id), 'SIGKILL');
    return (await waitForStatus(server, id, ['failed'])) as unknown as Workspace;
  }

  it('is failed with the reason, and start brings it back with its files', async () => {
    assert.equal((await job('echo kept > kept.txt')).status, 'succeeded');
    const failed = await killInit();
    assert.equal(failed.error?.code, 'SANDBOX_FAILED');
    assert.match(failed.error?.message ?? '', /the sandbox's init was killed \(SIGKILL\)/);
    assert.match(failed.error?.message ?? '', /files are kept/);
    assert.equal(failed.error?.filesKept, true);

    const started = await server.api<Workspace>(`/api/workspaces/${id}/start`, { method: 'POST' });
    assert.equal(started.status, 200, JSON.stringify(started.body));
    assert.equal(started.body.status, 'running');
    assert.equal(started.body.error, null);
    assert.deepEqual(await job('cat kept.txt'), { status: 'succeeded', stdout: 'kept\n' });
  });

  it('can be stopped, then started again', async () => {
    await killInit();
    const stopped = await server.api<Workspace>(`/api/workspaces/${id}/stop`, { method: 'POST' });
    assert.equal(stopped.status, 200, JSON.stringify(stopped.body));
    assert.equal(stopped.body.status, 'stopped');
    const started = await server.api<Workspace>(`/api/workspaces/${id}/start`, { method: 'POST' });
    assert.equal(started.status, 200, JSON.stringify(started.body));
    assert.equal((await job('cat kept.txt')).stdout, 'kept\n');
  });

  it('can be started after a server restart', async () => {
    await killInit();
    await server.restart();
    const { body } = await server.api<Workspace>(`/api/workspaces/${id}`);
    assert.equal(body.status, 'failed');
    const started = await server.api<Workspace>(`/api/workspaces/${id}/start`, { method: 'POST' });
    assert.equal(started.status, 200, JSON.stringify(started.body));
    assert.equal((await job('cat kept.txt')).stdout, 'kept\n');
  });

  // `starting` is also the status while a stopped workspace starts: a server that died then used to
  // take it for a creation cut off, and deleted its files.
  it('resumes, with its files, a start that a server crash cut off', async () => {
    const stopped = await server.api<Workspace>(`/api/workspaces/${id}/stop`, { method: 'POST' });
    assert.equal(stopped.body.status, 'stopped');
    await updateWorkspace(server.nixspace.store.db, id, { status: 'starting' });
    await server.restart();
    const { body } = await server.api<Workspace>(`/api/workspaces/${id}`);
    assert.equal(body.status, 'running', JSON.stringify(body.error));
    assert.equal((await job('cat kept.txt')).stdout, 'kept\n');
  });

  it('a creation that failed keeps its reason, and start says why it cannot', async () => {
    const created = await server.api<{ id: string }>('/api/workspaces', {
      method: 'POST',
      body: { repoUrl: gitServer.url('missing.git') },
    });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const failed = (await waitForStatus(server, created.body.id, ['failed'])) as unknown as Workspace;
    const reason = failed.error?.message;
    assert.notEqual(failed.error?.filesKept, true);
    const start = await server.api<{ code: string; message: string }>(
      `/api/workspaces/${created.body.id}/start`,
      { method: 'POST' },
    );
    assert.equal(start.status, 409);
    assert.match(start.body.message, /failed while being created/);
    assert.match(start.body.message, /delete it and create it again/);
    const after = await server.api<Workspace>(`/api/workspaces/${created.body.id}`);
    assert.equal(after.body.status, 'failed');
    assert.equal(after.body.error?.message, reason);
  });
});
