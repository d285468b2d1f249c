// Terminals over the real WebSocket route on a server with a small cap and a short idle time:
// a shell whose tab went away is closed after a while (reattaching then opens a new one), and the
// owner at the cap gets a terminal as long as one is detached; with every one attached the
// socket is closed with a clear CONFLICT.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { makeRepo } from '../support/git-fixtures.js';
import { type GitHttpServer, startGitHttpServer } from '../support/git-http-server.js';
import {
  createRunningWorkspace,
  openTerminal,
  startTestServer,
  type TerminalClient,
  type TestServer,
} from '../support/nixspace-server.js';

describe('terminal sessions of a workspace', () => {
  let git: GitHttpServer;
  let server: TestServer;
  let id: string;
  const clients: TerminalClient[] = [];

  before(async () => {
    git = await startGitHttpServer();
    await makeRepo(git.root, 'app.git');
    server = await startTestServer({ config: { terminals: { max: 2, detachedIdleSeconds: 0.5 } } });
    id = await createRunningWorkspace(server, git.url('app.git'));
  });

  after(async () => {
    for (const client of clients) client.close();
    await server?.close();
    await git?.close();
  });

  async function open(
    terminal?: string,
  ): Promise<{ client: TerminalClient; hello: Record<string, unknown> }> {
    const client = await openTerminal(server, id, terminal ? { terminal } : {});
    clients.push(client);
    await client.waitFor((t) => t.messages.some((m) => m.type === 'hello' || m.type === 'error'));
    return { client, hello: client.messages[0]! };
  }

  async function closed(client: TerminalClient): Promise<void> {
    client.close();
    await client.closed;
  }

  async function until(condition: () => boolean, what: string): Promise<void> {
    const deadline = Date.now() + 10_000;
    while (!condition()) {
      assert.ok(Date.now() < deadline, `timed out waiting until ${what}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  it('closes a shell whose tab went away after the idle time; reattaching then opens a new one', async () => {
    const { user } = await server.nixspace.access.ensureOwner(server.nixspace.config.ownerEmail);
    const terminals = await server.nixspace.workspaces.terminals(user, id);
    const first = await open();
    const terminalId = String(first.hello.terminalId);
    assert.ok(terminals.get(terminalId));
    await closed(first.client);
    await until(() => terminals.get(terminalId) === undefined, 'the detached shell is closed');
    const again = await open(terminalId);
    assert.notEqual(again.hello.terminalId, terminalId);
    assert.equal(again.hello.replayed, false);
    await closed(again.client);
  });

  it('gives the owner a terminal at the cap once one is detached, and says why it cannot before', async () => {
    const a = await open();
    const b = await open();
    assert.equal(a.hello.type, 'hello');
    assert.equal(b.hello.type, 'hello');
    const refused = await open();
    assert.equal(refused.hello.type, 'error', JSON.stringify(refused.hello));
    assert.equal(refused.hello.code, 'CONFLICT');
    assert.match(String(refused.hello.message), /All 2 terminals of this workspace are in use.*close one/);
    await refused.client.closed;
    await closed(b.client);
    const c = await open();
    assert.equal(c.hello.type, 'hello', JSON.stringify(c.hello));
    c.client.type('echo ready-$((6*7))\n');
    await c.client.waitFor((t) => t.output.includes('ready-42'));
  });
});
