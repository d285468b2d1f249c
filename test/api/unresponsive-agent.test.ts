// A workspace whose agent stops answering is restarted, and says so (issue 12). The agent is
// stopped from the host with SIGSTOP: its event loop then answers nothing, as a wedged agent's does,
// while its box lives on. A workspace that keeps wedging its agent is not restarted forever.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import type { Workspace } from '../../src/wire/workspaces.js';
import { makeRepo } from '../support/git-fixtures.js';
import { type GitHttpServer, startGitHttpServer } from '../support/git-http-server.js';
import {
  createAndWaitRunning,
  openShell,
  startTestServer,
  type TerminalClient,
  type TestServer,
  waitForStatus,
} from '../support/nixspace-server.js';
import { sandboxAgentPid } from '../support/sandbox-init.js';

describe('a workspace whose agent stopped answering', () => {
  let gitServer: GitHttpServer;
  let server: TestServer;
  let id: string;
  const open: TerminalClient[] = [];

  before(async () => {
    gitServer = await startGitHttpServer();
    await makeRepo(gitServer.root, 'app.git');
    server = await startTestServer({ config: { workspaces: { agentTimeoutMs: 2000 } } });
    id = (await createAndWaitRunning<Workspace>(server, gitServer.url('app.git'))).id;
  });

  after(async () => {
    for (const client of open) client.socket.close();
    await server?.close();
    await gitServer?.close();
  });

  /** Stops the agent and resolves once the workspace is back with a new one, or failed. */
  async function wedgeAgent(): Promise<{ old: number; workspace: Workspace }> {
    const old = await sandboxAgentPid(id);
    const before = (await server.api<Workspace>(`/api/workspaces/${id}`)).body.sandbox?.restarted?.at;
    process.kill(old, 'SIGSTOP');
    const deadline = Date.now() + 60_000;
    for (;;) {
      const { body } = await server.api<Workspace>(`/api/workspaces/${id}`);
      const restarted = body.status === 'running' && body.sandbox?.restarted?.at !== before;
      if (restarted || body.status === 'failed') return { old, workspace: body };
      if (Date.now() > deadline) assert.fail(`the workspace was not restarted: ${JSON.stringify(body)}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  it('is restarted in a new sandbox with its files, and says when and why', async () => {
    const shell = await openShell(server, id, open);
    shell.type('echo kept > kept.txt && echo wrote-$((6*7))\r');
    await shell.waitFor((t) => t.output.includes('wrote-42'));

    const { old, workspace } = await wedgeAgent();
    assert.equal(workspace.status, 'running', JSON.stringify(workspace.error));
    assert.match(workspace.sandbox?.restarted?.reason ?? '', /^its agent did not answer for \d+ s$/);
    assert.ok(Date.parse(workspace.sandbox?.restarted?.at ?? '') > Date.parse(workspace.createdAt));
    // The wedged box is gone, and a new one runs in its place.
    await waitUntil(() => !existsSync(`/proc/${old}`), 'the stopped agent to be gone');
    assert.notEqual(await sandboxAgentPid(id), old);
    // The shell of the old box ended with it.
    await shell.closed;

    const again = await openShell(server, id, open);
    again.type('cat kept.txt\r');
    await again.waitFor((t) => t.output.includes('kept\r\n'));
  });

  it('is not restarted again and again: past its budget it fails with the reason', async () => {
    // One restart is spent above; two more are allowed within the hour, then it fails.
    for (let i = 0; i < 2; i += 1) assert.equal((await wedgeAgent()).workspace.status, 'running');
    const { workspace } = await wedgeAgent();
    assert.equal(workspace.status, 'failed');
    assert.equal(workspace.error?.code, 'SANDBOX_FAILED');
    assert.match(
      workspace.error?.message ?? '',
      /its agent did not answer for \d+ s, so the sandbox was ended/,
    );
    assert.equal(workspace.error?.filesKept, true);
    // Its owner starts it again, with its files.
    const started = await server.api<Workspace>(`/api/workspaces/${id}/start`, { method: 'POST' });
    assert.equal(started.status, 200, JSON.stringify(started.body));
    const shell = await openShell(server, id, open);
    shell.type('cat kept.txt\r');
    await shell.waitFor((t) => t.output.includes('kept\r\n'));
    assert.equal((await waitForStatus(server, id, ['running'])).status, 'running');
  });
});

async function waitUntil(condition: () => boolean, what: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
