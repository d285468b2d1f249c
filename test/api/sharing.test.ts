// Sharing a workspace by link: viewer and editor roles, links that open without an account (or
// need one), expiry, revocation that cuts open connections, the limit of people at once, and
// tokens kept only as hashes. Real server, real sandbox, real terminals over WebSockets.

import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { sql } from 'kysely';
import WebSocket from 'ws';
import { makeRepo } from '../support/git-fixtures.js';
import { type GitHttpServer, startGitHttpServer } from '../support/git-http-server.js';
import {
  openTerminal,
  signIn,
  startTestServer,
  type TestServer,
  waitForStatus,
} from '../support/nixspace-server.js';

interface CreatedShare {
  id: string;
  token: string;
  url: string;
  path: string;
  role: string;
  expiresAt: string | null;
  anonymous: boolean;
}

interface Visit {
  token: string;
  role: string;
  workspace: { id: string; name: string; status: string };
}

describe('sharing a workspace by link', () => {
  let git: GitHttpServer;
  let server: TestServer;
  let id: string;

  before(async () => {
    git = await startGitHttpServer();
    await makeRepo(git.root, 'app.git', { files: { 'notes.txt': 'shared notes\n' } });
    // Not under /tmp, which every sandbox replaces: what a shell can see of the data directory counts.
    server = await startTestServer({ dataDirParent: '/var/tmp' });
    const created = await server.api<{ id: string }>('/api/workspaces', {
      method: 'POST',
      body: { repoUrl: git.url('app.git') },
    });
    id = created.body.id;
    const view = await waitForStatus(server, id, ['running', 'failed']);
    assert.equal(view.status, 'running');
  });

  after(async () => {
    await server?.close();
    await git?.close();
  });

  const share = (body: Record<string, unknown>) =>
    server.api<CreatedShare & { code?: string; message?: string }>(`/api/workspaces/${id}/shares`, {
      method: 'POST',
      body,
    });

  /** Opens a link as a browser without an account would: the visit's cookie header comes back. */
  async function visit(token: string, extra: { cookie?: string; previous?: string; on?: TestServer } = {}) {
    const response = await fetch(`${(extra.on ?? server).url}/api/shares/visit`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(extra.cookie ? { cookie: extra.cookie } : {}) },
      body: JSON.stringify({ token, ...(extra.previous ? { previous: extra.previous } : {}) }),
    });
    const body = (await response.json()) as Visit & { code?: string; message?: string };
    const cookies = response.headers
      .getSetCookie()
      .map((c) => c.split(';')[0]!)
      .join('; ');
    return { status: response.status, body, cookie: cookies };
  }

  function follow(
    cookie: string,
  ): Promise<{ socket: WebSocket; closed: Promise<{ code: number; body: string }> }> {
    const socket = new WebSocket(`${server.url.replace('http', 'ws')}/api/workspaces/${id}/events`, {
      headers: { cookie, origin: server.url },
    });
    let last = '';
    socket.on('message', (data) => {
      last = String(data);
    });
    const closed = new Promise<{ code: number; body: string }>((resolve) =>
      socket.once('close', (code) => resolve({ code, body: last })),
    );
    return new Promise((resolve, reject) => {
      socket.once('message', () => resolve({ socket, closed }));
      socket.once('error', reject);
      socket.once('close', (code) => reject(new Error(`closed ${code}: ${last}`)));
    });
  }

  it('creates links whose token is shown once and stored only as its sha256, over REST and GraphQL', async () => {
    const created = await share({ role: 'viewer', expiresInHours: 24 });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    assert.equal(created.body.role, 'viewer');
    assert.equal(created.body.anonymous, true);
    assert.equal(created.body.path, `/s/${created.body.token}`);
    assert.equal(created.body.url, `${server.url}/s/${created.body.token}`);
    const expiresIn = Date.parse(created.body.expiresAt ?? '') - Date.now();
    assert.ok(expiresIn > 23.9 * 3600_000 && expiresIn <= 24 * 3600_000, `expires in ${expiresIn} ms`);

    const rows = await sql<
      Record<string, unknown>
    >`SELECT * FROM share_links WHERE id = ${created.body.id}`.execute(server.nixspace.store.db);
    const row = rows.rows[0]!;
    assert.equal(row.token_hash, createHash('sha256').update(created.body.token).digest('hex'));
    assert.ok(
      !Object.values(row).some((value) => String(value).includes(created.body.token)),
      'no column holds the token itself',
    );

    const result = await server.graphql<{ shareEnvironment: CreatedShare }>(
      'mutation($id: ID!) { shareEnvironment(id: $id, role: "editor") { id token url path role expiresAt } }',
      { id },
    );
    const viaGraphql = result.data?.shareEnvironment;
    assert.ok(viaGraphql, JSON.stringify(result));
    assert.equal(viaGraphql.role, 'editor');
    assert.equal(viaGraphql.expiresAt, null);
    assert.equal(viaGraphql.url, `${server.url}${viaGraphql.path}`);

    const listed = await server.graphql<{ shareLinks: { id: string; role: string }[] }>(
      'query($id: ID!) { shareLinks(id: $id) { id role } }',
      { id },
    );
    const ids = listed.data?.shareLinks.map((l) => l.id) ?? [];
    assert.ok(ids.includes(created.body.id) && ids.includes(viaGraphql.id), JSON.stringify(listed));
  });

  it('lets a viewer without an account watch the terminal, and never sends what they type', async () => {
    const created = await share({ role: 'viewer' });
    const owner = await openTerminal(server, id);
    owner.type('echo owner-$((6*7))\r');
    await owner.waitFor((t) => t.output.includes('owner-42'));

    const guest = await visit(created.body.token);
    assert.equal(guest.status, 200, JSON.stringify(guest.body));
    assert.equal(guest.body.role, 'viewer');
    assert.equal(guest.body.workspace.id, id);
    assert.match(guest.cookie, /nixspace_ws=/);
    assert.match(guest.cookie, /nixspace_ide=/);

    const seen = await server.api<{ id: string; status: string }>(`/api/workspaces/${id}`, {
      cookie: guest.cookie,
    });
    assert.equal(seen.status, 200);
    assert.equal(seen.body.status, 'running');

    const watcher = await openTerminal(server, id, { cookie: guest.cookie });
    await watcher.waitFor((t) => t.output.includes('owner-42'));
    const hello = watcher.messages.find((m) => m.type === 'hello');
    assert.equal(hello?.readOnly, true);

    watcher.type('touch viewer-wrote.txt\r');
    await watcher.waitFor((t) => t.messages.some((m) => m.type === 'read-only'));
    assert.equal(watcher.messages.find((m) => m.type === 'read-only')?.code, 'READ_ONLY');
    // What the owner does next still reaches the viewer; the viewer's keystrokes never ran.
    owner.type('ls; echo done-$((2*21))\r');
    await watcher.waitFor((t) => t.output.includes('done-42'));
    assert.ok(!existsSync(join(server.dataDir, 'workspaces', id, 'repo', 'viewer-wrote.txt')));
    assert.ok(!owner.output.includes('viewer-wrote'));

    // Owner-only actions answer a guest clearly, and change nothing.
    const stop = await server.api<{ code: string }>(`/api/workspaces/${id}/stop`, {
      method: 'POST',
      cookie: guest.cookie,
    });
    assert.equal(stop.status, 401);
    assert.equal((await server.api<{ status: string }>(`/api/workspaces/${id}`)).body.status, 'running');
    watcher.close();
    owner.close();
  });

  it('waits with a viewer until the owner opens a terminal', async () => {
    const other = await server.api<{ id: string }>('/api/workspaces', {
      method: 'POST',
      body: { repoUrl: git.url('app.git') },
    });
    await waitForStatus(server, other.body.id, ['running']);
    const link = await server.api<CreatedShare>(`/api/workspaces/${other.body.id}/shares`, {
      method: 'POST',
      body: {},
    });
    assert.equal(link.body.role, 'viewer', 'links are read-only unless asked otherwise');
    const guest = await visit(link.body.token);
    const watcher = await openTerminal(server, other.body.id, { cookie: guest.cookie });
    await watcher.waitFor((t) => t.messages.some((m) => m.type === 'waiting'));
    const owner = await openTerminal(server, other.body.id);
    owner.type('echo first-$((3*3))\r');
    await watcher.waitFor((t) => t.output.includes('first-9'));
    watcher.close();
    owner.close();
    await server.api(`/api/workspaces/${other.body.id}`, { method: 'DELETE' });
  });

  it("attaches a viewer to the owner's shell, never an editor's, and says whose it is in the hello", async () => {
    // The bug: with only an editor's shell open (as after a restart), a viewer was shown it while
    // the page said "the owner's shell".
    const other = await server.api<{ id: string }>('/api/workspaces', {
      method: 'POST',
      body: { repoUrl: git.url('app.git') },
    });
    await waitForStatus(server, other.body.id, ['running']);
    const links = `/api/workspaces/${other.body.id}/shares`;
    const editorLink = await server.api<CreatedShare>(links, { method: 'POST', body: { role: 'editor' } });
    const viewerLink = await server.api<CreatedShare>(links, { method: 'POST', body: { role: 'viewer' } });
    const editorCookie = (await visit(editorLink.body.token)).cookie;
    const editor = await openTerminal(server, other.body.id, { cookie: editorCookie });
    await editor.waitFor((t) => t.messages.some((m) => m.type === 'hello'));
    assert.equal(editor.messages.find((m) => m.type === 'hello')?.openedBy, 'editor');
    editor.type('echo editor-$((5*5))\r');
    await editor.waitFor((t) => t.output.includes('editor-25'));
    const editorTerminal = String(editor.messages.find((m) => m.type === 'hello')?.terminalId);

    const viewerCookie = (await visit(viewerLink.body.token)).cookie;
    // Even when it names the editor's shell, a viewer waits for the owner's.
    const watcher = await openTerminal(server, other.body.id, {
      cookie: viewerCookie,
      terminal: editorTerminal,
    });
    await watcher.waitFor((t) => t.messages.some((m) => m.type === 'waiting'));
    assert.match(String(watcher.messages.find((m) => m.type === 'waiting')?.message), /owner/);

    const owner = await openTerminal(server, other.body.id);
    owner.type('echo owner-$((4*4))\r');
    await watcher.waitFor((t) => t.output.includes('owner-16'));
    const hello = watcher.messages.find((m) => m.type === 'hello');
    assert.equal(hello?.openedBy, 'owner');
    assert.equal(hello?.readOnly, true);
    // An editor's newer shell does not take the viewer over.
    const second = await openTerminal(server, other.body.id, { cookie: editorCookie });
    second.type('echo newer-editor-shell\r');
    await second.waitFor((t) => t.output.includes('newer-editor-shell'));
    const late = await openTerminal(server, other.body.id, { cookie: viewerCookie });
    await late.waitFor((t) => t.output.includes('owner-16'));
    assert.equal(late.messages.find((m) => m.type === 'hello')?.terminalId, hello?.terminalId);
    assert.ok(!watcher.output.includes('editor-25') && !late.output.includes('newer-editor-shell'));
    for (const client of [late, second, owner, watcher, editor]) client.close();
    await server.api(`/api/workspaces/${other.body.id}`, { method: 'DELETE' });
  });

  it('lets an editor open a shell that changes the workspace', async () => {
    const created = await share({ role: 'editor' });
    const guest = await visit(created.body.token);
    assert.equal(guest.body.role, 'editor');
    const shell = await openTerminal(server, id, { cookie: guest.cookie });
    shell.type('echo from-the-editor > edited.txt && echo written-$((1+1))\r');
    await shell.waitFor((t) => t.output.includes('written-2'));
    const file = join(server.dataDir, 'workspaces', id, 'repo', 'edited.txt');
    assert.equal(await readFile(file, 'utf8'), 'from-the-editor\n');
    // A shell, an editor's included, cannot reach NixSpace's keys, database or admin socket.
    const secrets = [
      join(server.dataDir, 'secrets', 'workspace-token.key'),
      join(server.dataDir, 'db'),
      join(server.dataDir, 'nixspace.sock'),
    ];
    assert.ok(existsSync(secrets[0]!), 'the key exists on the host');
    shell.type(
      `for p in ${secrets.join(' ')}; do [ -e "$p" ] && echo "LEAK $p"; done; echo checked-$((3+3))\r`,
    );
    await shell.waitFor((t) => t.output.includes('checked-6'));
    assert.doesNotMatch(shell.output, /LEAK \//);
    shell.close();
  });

  it('refuses a fourth person while three are in, and keeps a returning guest the same person', async () => {
    await using limited = await startTestServer();
    const created = await limited.api<{ id: string }>('/api/workspaces', {
      method: 'POST',
      body: { repoUrl: git.url('app.git') },
    });
    await waitForStatus(limited, created.body.id, ['running']);
    const wsId = created.body.id;
    const link = await limited.api<CreatedShare>(`/api/workspaces/${wsId}/shares`, {
      method: 'POST',
      body: { role: 'viewer' },
    });
    const visitLimited = (previous?: string) =>
      visit(link.body.token, { on: limited, ...(previous ? { previous } : {}) });
    const openEvents = async (cookie: string) => {
      const socket = new WebSocket(`${limited.url.replace('http', 'ws')}/api/workspaces/${wsId}/events`, {
        headers: { cookie, origin: limited.url },
      });
      await new Promise((resolve, reject) => {
        socket.once('message', resolve);
        socket.once('error', reject);
      });
      return socket;
    };
    const ownerSocket = await openEvents(limited.cookie);
    const first = await visitLimited();
    const firstSocket = await openEvents(first.cookie);
    const second = await visitLimited();
    const secondSocket = await openEvents(second.cookie);

    const fourth = await visitLimited();
    assert.equal(fourth.status, 409);
    assert.equal(fourth.body.code, 'WORKSPACE_FULL');
    assert.match(fourth.body.message ?? '', /already has 3 people in it/);

    // A guest already in (a reload) is the same person, not a fourth.
    const again = await visitLimited(first.body.token);
    assert.equal(again.status, 200, JSON.stringify(again.body));
    const shares = await limited.api<{ shares: { activeUsers: number }[] }>(`/api/workspaces/${wsId}/shares`);
    assert.equal(shares.body.shares[0]?.activeUsers, 2);

    // Someone leaves: there is room again.
    const left = new Promise((resolve) => secondSocket.once('close', resolve));
    secondSocket.close();
    await left;
    let retried = await visitLimited();
    for (let i = 0; retried.status !== 200 && i < 20; i++) {
      await new Promise((r) => setTimeout(r, 50));
      retried = await visitLimited();
    }
    assert.equal(retried.status, 200);
    ownerSocket.close();
    firstSocket.close();
  });

  it('cuts what a link opened within seconds of revoking it, and refuses it afterwards', async () => {
    const created = await share({ role: 'editor' });
    const guest = await visit(created.body.token);
    const terminal = await openTerminal(server, id, { cookie: guest.cookie });
    const events = await follow(guest.cookie);

    const revokedAt = Date.now();
    const revoked = await server.api<{ id: string }>(`/api/shares/${created.body.id}`, { method: 'DELETE' });
    assert.equal(revoked.status, 200);
    const code = await terminal.closed;
    const eventsClosed = await events.closed;
    assert.ok(Date.now() - revokedAt < 2000, `closed after ${Date.now() - revokedAt} ms`);
    assert.equal(code, 4410);
    assert.equal(eventsClosed.code, 4410);
    assert.equal(terminal.messages.at(-1)?.code, 'SHARE_LINK_REVOKED');

    const reopened = await server.api<{ code: string }>(`/api/workspaces/${id}`, { cookie: guest.cookie });
    assert.equal(reopened.status, 410);
    assert.equal(reopened.body.code, 'SHARE_LINK_REVOKED');
    const revisit = await visit(created.body.token);
    assert.equal(revisit.status, 410);
    assert.equal(revisit.body.code, 'SHARE_LINK_REVOKED');
    const ide = await fetch(`${server.url}/ide/${id}/`, {
      headers: { cookie: guest.cookie },
      redirect: 'manual',
    });
    assert.equal(ide.status, 410);

    const listed = await server.api<{ shares: { id: string }[] }>(`/api/workspaces/${id}/shares`);
    assert.ok(!listed.body.shares.some((s) => s.id === created.body.id), 'a revoked link is not listed');
  });

  it('expires a link: its open connections close at the expiry and it no longer opens', async () => {
    const created = await share({ role: 'viewer', expiresInHours: 1.5 / 3600 });
    const guest = await visit(created.body.token);
    assert.equal(guest.status, 200);
    const events = await follow(guest.cookie);
    const closed = await events.closed;
    assert.equal(closed.code, 4410);
    assert.match(closed.body, /SHARE_LINK_EXPIRED/);
    const late = await visit(created.body.token);
    assert.equal(late.status, 410);
    assert.equal(late.body.code, 'SHARE_LINK_EXPIRED');
  });

  it('asks for an account when the link says so, and opens for a signed-in member', async () => {
    const created = await share({ role: 'viewer', anonymous: false });
    const anonymous = await visit(created.body.token);
    assert.equal(anonymous.status, 401);
    assert.equal(anonymous.body.code, 'UNAUTHENTICATED');
    assert.match(anonymous.body.message ?? '', /needs an account/);

    const member = await server.nixspace.access.createUser('member@example.test');
    const { token } = await server.nixspace.access.createLoginLink(member.id);
    const memberCookie = await signIn(server.url, `${server.url}/auth/link?token=${token}`);
    // Without the link, a member does not see someone else's workspace.
    const before = await server.api(`/api/workspaces/${id}`, { cookie: memberCookie });
    assert.equal(before.status, 404);
    const signedIn = await visit(created.body.token, { cookie: memberCookie });
    assert.equal(signedIn.status, 200, JSON.stringify(signedIn.body));
    const seen = await server.api(`/api/workspaces/${id}`, { cookie: `${memberCookie}; ${signedIn.cookie}` });
    assert.equal(seen.status, 200);
    // The member still cannot list or create the owner's links.
    const theirs = await server.api<{ code: string }>(`/api/workspaces/${id}/shares`, {
      cookie: memberCookie,
    });
    assert.equal(theirs.status, 404);
  });

  it('answers bad input with errors that name the problem, and creates nothing', async () => {
    const count = async () =>
      Number(
        (await sql<{ n: string }>`SELECT count(*) AS n FROM share_links`.execute(server.nixspace.store.db))
          .rows[0]?.n,
      );
    const before = await count();
    const badRole = await share({ role: 'admin' });
    assert.equal(badRole.status, 400);
    assert.match(badRole.body.message ?? '', /role must be "viewer" or "editor"/);
    const badExpiry = await share({ expiresInHours: -1 });
    assert.equal(badExpiry.status, 400);
    assert.match(badExpiry.body.message ?? '', /expiresInHours/);
    const unknownWorkspace = await server.api<{ code: string }>(
      '/api/workspaces/00000000-0000-4000-8000-000000000000/shares',
      { method: 'POST', body: {} },
    );
    assert.equal(unknownWorkspace.status, 404);
    assert.equal(await count(), before);

    const unknownToken = await visit('not-a-real-token');
    assert.equal(unknownToken.status, 404);
    assert.equal(unknownToken.body.code, 'SHARE_LINK_INVALID');
    const empty = await visit('');
    assert.equal(empty.status, 400);
    const unknownRevoke = await server.api<{ code: string }>(
      '/api/shares/00000000-0000-4000-8000-000000000000',
      {
        method: 'DELETE',
      },
    );
    assert.equal(unknownRevoke.status, 404);
    const noSession = await server.api<{ code: string }>(`/api/workspaces/${id}/shares`, {
      method: 'POST',
      body: {},
      cookie: null,
    });
    assert.equal(noSession.status, 401);
  });
});
