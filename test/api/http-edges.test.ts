// The edges of the HTTP server: CORS, the UI shell, unknown routes, and the GraphQL progress
// subscription over server-sent events.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { makeRepo } from '../support/git-fixtures.js';
import { type GitHttpServer, startGitHttpServer } from '../support/git-http-server.js';
import { startTestServer, type TestServer } from '../support/nixspace-server.js';

describe('HTTP edges', () => {
  let server: TestServer;
  let git: GitHttpServer;

  before(async () => {
    git = await startGitHttpServer();
    await makeRepo(git.root, 'tiny.git');
    server = await startTestServer();
  });
  after(async () => {
    await server?.close();
    await git?.close();
  });

  it('allows CORS only from the UI origin', async () => {
    const preflight = (origin: string) =>
      fetch(`${server.url}/api/workspaces`, {
        method: 'OPTIONS',
        headers: { origin, 'access-control-request-method': 'POST' },
      });
    const own = await preflight(server.url);
    assert.equal(own.headers.get('access-control-allow-origin'), server.url);
    assert.equal(own.headers.get('access-control-allow-credentials'), 'true');
    const foreign = await preflight('http://evil.test');
    assert.equal(foreign.headers.get('access-control-allow-origin'), null);
  });

  it('answers unknown API routes with the error body and other pages with the UI shell', async () => {
    const api = await server.api<{ code: string; message: string }>('/api/nope');
    assert.equal(api.status, 404);
    assert.deepEqual(Object.keys(api.body).sort(), ['code', 'message']);
    assert.equal(api.body.code, 'NOT_FOUND');
    const page = await fetch(`${server.url}/w/some-workspace`);
    assert.equal(page.status, 200);
    assert.match(page.headers.get('content-type') ?? '', /text\/html/);
  });

  it('sets an httpOnly SameSite session cookie on sign-in', async () => {
    const response = await fetch(await server.nixspace.ownerLoginLink(), { redirect: 'manual' });
    const cookie = response.headers.get('set-cookie') ?? '';
    assert.match(cookie, /nixspace_session=/);
    assert.match(cookie, /HttpOnly/i);
    assert.match(cookie, /SameSite=Lax/i);
  });

  it('streams environmentProgress over SSE until the workspace runs', async () => {
    const created = await server.graphql<{ createEnvironment: { id: string } }>(
      'mutation($u: String!) { createEnvironment(repoUrl: $u) { id } }',
      { u: git.url('tiny.git') },
    );
    const id = created.data!.createEnvironment.id;
    const response = await fetch(`${server.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'text/event-stream', cookie: server.cookie },
      body: JSON.stringify({
        query: 'subscription($id: ID!) { environmentProgress(id: $id) { status steps { name status } } }',
        variables: { id },
      }),
    });
    assert.equal(response.status, 200);
    const text = await response.text(); // the stream ends once the workspace is running
    const statuses = [...text.matchAll(/"status":"(\w+)","steps"/g)].map((m) => m[1]);
    assert.equal(statuses.at(-1), 'running', text);
  });
});
