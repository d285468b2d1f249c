// Workspace tokens end when what they were issued for ends: the signing key's rotation (by
// command), the share link's revocation, the owner's session (sign-out). Every path that takes a
// token is tried: the workspace API (its cookie), the IDE (its cookie) and the terminal socket.
// Issue 11, "Tokens": a token outlived all three.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { runCli } from '../support/cli.js';
import { makeRepo } from '../support/git-fixtures.js';
import { type GitHttpServer, startGitHttpServer } from '../support/git-http-server.js';
import {
  createRunningWorkspace,
  openTerminal,
  signIn,
  startTestServer,
  type TestServer,
} from '../support/nixspace-server.js';

describe('workspace tokens', () => {
  let git: GitHttpServer;
  let server: TestServer;
  let id: string;

  before(async () => {
    git = await startGitHttpServer();
    await makeRepo(git.root, 'app.git', { files: { 'notes.txt': 'notes\n' } });
    server = await startTestServer();
    id = await createRunningWorkspace(server, git.url('app.git'));
  });

  after(async () => {
    await server?.close();
    await git?.close();
  });

  /** A token the owner's session gets for the workspace, as the UI asks for it. */
  async function ownerToken(cookie = server.cookie): Promise<string> {
    const { status, body } = await server.api<{ token: string }>(`/api/workspaces/${id}/ide/token`, {
      method: 'POST',
      cookie,
    });
    assert.equal(status, 200);
    return body.token;
  }

  /** A viewer's token from opening a share link; returns the link's id too. */
  async function viewerToken(): Promise<{ token: string; linkId: string }> {
    const link = await server.api<{ id: string; token: string }>(`/api/workspaces/${id}/shares`, {
      method: 'POST',
      body: { role: 'viewer' },
    });
    const visit = await server.api<{ token: string }>('/api/shares/visit', {
      method: 'POST',
      body: { token: link.body.token },
      cookie: null,
    });
    assert.equal(visit.status, 200);
    return { token: visit.body.token, linkId: link.body.id };
  }

  /** What each path answers a request carrying only the token: the workspace API, the IDE, the terminal. */
  async function paths(token: string) {
    const api = await server.api<{ code?: string }>(`/api/workspaces/${id}`, {
      cookie: `nixspace_ws=${token}`,
    });
    const ide = await fetch(`${server.url}/ide/${id}/`, {
      redirect: 'manual',
      headers: { cookie: `nixspace_ide=${token}` },
    });
    const terminal = await openTerminal(server, id, { cookie: `nixspace_ws=${token}` });
    const closeCode = await Promise.race([
      terminal.closed,
      terminal.waitFor(() => terminal.output.length > 0).then(() => 0),
    ]);
    terminal.socket.terminate();
    return { api: api.status, ide: ide.status, terminal: closeCode };
  }

  const refused = { api: 401, ide: 401, terminal: 4401 };

  it('refuses a token signed before `rotate-keys` once the keys are rotated', async () => {
    const token = await ownerToken();
    const before = await paths(token);
    assert.equal(before.api, 200);
    assert.notEqual(before.ide, 401);
    assert.equal(before.terminal, 0, 'the terminal opens with the token');
    const open = await openTerminal(server, id, { cookie: `nixspace_ws=${token}` });
    await open.waitFor(() => open.output.length > 0);

    // `nixspace rotate-keys`, as the machine's owner runs it: the running server rotates.
    const rotated = await runCli(['rotate-keys', '--data-dir', server.dataDir]);
    assert.equal(rotated.code, 0, rotated.stderr);
    assert.match(rotated.stdout, /every token signed before is refused/);
    assert.deepEqual(await paths(token), refused);
    // What the token opened closes too.
    const stillOpen = new Promise<string>((resolve) => setTimeout(() => resolve('still open'), 5000).unref());
    assert.equal(await Promise.race([open.closed, stillOpen]), 4401);

    // A new token, signed with the new key, works.
    assert.equal((await paths(await ownerToken())).api, 200);
  });

  it("refuses a viewer's token once its link is revoked, before the token expires", async () => {
    const { token, linkId } = await viewerToken();
    assert.equal((await paths(token)).api, 200);
    assert.equal((await server.api(`/api/shares/${linkId}`, { method: 'DELETE' })).status, 200);
    const after = await paths(token);
    assert.deepEqual(
      [after.api, after.ide, after.terminal],
      [410, 410, 4410],
      `revoked: ${JSON.stringify(after)}`,
    );
  });

  it("refuses the owner's token once the session it was issued to signs out", async () => {
    const session = await signIn(server.url, await server.nixspace.ownerLoginLink());
    const token = await ownerToken(session);
    assert.equal((await paths(token)).api, 200);
    // A terminal open with it, and one open with the session itself, close when it signs out.
    const withToken = await openTerminal(server, id, { cookie: `nixspace_ws=${token}` });
    const withSession = await openTerminal(server, id, { cookie: session });
    await Promise.all([withToken, withSession].map((t) => t.waitFor(() => t.output.length > 0)));
    const out = await fetch(`${server.url}/api/auth/logout`, {
      method: 'POST',
      headers: { cookie: session },
    });
    assert.ok(out.ok);
    const stillOpen = new Promise<string>((resolve) => setTimeout(() => resolve('still open'), 5000).unref());
    const closed = Promise.all([withToken.closed, withSession.closed]);
    assert.deepEqual(await Promise.race([closed, stillOpen]), [4401, 4401]);
    assert.deepEqual(await paths(token), refused);
    // The owner's other session, and the tokens it gets, are untouched.
    assert.equal((await paths(await ownerToken())).api, 200);
  });
});
