// The IDE behind the NixSpace server: real code-server in the workspace sandbox, reached through
// the proxy at /ide/<id>/, guarded by the session and short-lived workspace tokens.

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import WebSocket from 'ws';
import { defaultIdeDir } from '../../src/config.js';
import { WorkspaceTokens } from '../../src/services/access/workspace-tokens.js';
import { CodeServerInstaller } from '../../src/services/ide/code-server-install.js';
import type { WorkspaceView } from '../../src/services/workspaces/workspace-view.js';
import { makeRepo } from '../support/git-fixtures.js';
import { type GitHttpServer, startGitHttpServer } from '../support/git-http-server.js';
import {
  asAnotherUser,
  createRunningWorkspace,
  startTestServer,
  type TestServer,
  waitForStatus,
} from '../support/nixspace-server.js';
import { processWithArgument } from '../support/node-processes.js';

const exec = promisify(execFile);

describe('the IDE proxy', () => {
  let gitServer: GitHttpServer;
  let server: TestServer;
  let id = '';

  before(async () => {
    await new CodeServerInstaller({ dir: defaultIdeDir() }).ensure();
    gitServer = await startGitHttpServer();
    await makeRepo(gitServer.root, 'app.git', { files: { 'main.py': 'print("hi")\n' } });
    server = await startTestServer({ config: { ide: { enabled: true, viewerIdleSeconds: 0.3 } } });
    id = await createRunningWorkspace(server, gitServer.url('app.git'));
    await waitForIde(id, 'running');
  });

  after(async () => {
    await server?.close();
    await gitServer?.close();
  });

  async function waitForIde(workspaceId: string, status: string, timeoutMs = 60_000) {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const { body } = await server.api<WorkspaceView>(`/api/workspaces/${workspaceId}`);
      if (body.ide?.status === status) return body;
      if (Date.now() > deadline) throw new Error(`IDE stayed ${JSON.stringify(body.ide)}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  const fetchIde = (path: string, cookie: string | null = server.cookie, init: RequestInit = {}) =>
    fetch(`${server.url}/ide/${id}${path}`, {
      redirect: 'manual',
      ...init,
      headers: { ...(cookie ? { cookie } : {}), ...(init.headers as Record<string, string>) },
    });

  async function otherUserCookie(): Promise<string> {
    return (await asAnotherUser(server, `other-${Date.now()}@example.test`)).cookie;
  }

  it('reports the IDE with its start time in getEnvironment', async () => {
    const result = await server.graphql<{
      getEnvironment: { ide: { status: string; startedAt: string; url: string; restarts: number } };
    }>('query($id: ID!) { getEnvironment(id: $id) { ide { status startedAt url restarts } } }', { id });
    const ide = result.data?.getEnvironment.ide;
    assert.equal(ide?.status, 'running');
    assert.ok(ide && !Number.isNaN(Date.parse(ide.startedAt)));
    assert.equal(ide?.url, `/ide/${id}/`);
    assert.equal(ide?.restarts, 0);
  });

  it("serves VS Code's workbench and assets under the workspace's path", async () => {
    const root = await fetchIde('/');
    assert.equal(root.status, 302);
    const location = root.headers.get('location') ?? '';
    assert.match(location, /^\.\/\?folder=/, 'code-server redirects relative to the prefix');
    const page = await fetchIde(`/${location.slice(2)}`);
    assert.equal(page.status, 200);
    const html = await page.text();
    assert.match(html, /workbench/);
    const asset = /src="([^"]*static\/out\/vs\/code\/browser\/workbench\/workbench\.js)"/.exec(html)?.[1];
    assert.ok(asset, 'the page loads the workbench script');
    assert.ok(!asset.startsWith('/'), `the script is named relative to the prefix: ${asset}`);
    const script = await fetchIde(`/${asset}`);
    assert.equal(script.status, 200);
    assert.ok((await script.text()).length > 1000);
    // Webviews (extension views, Markdown preview) load their host page and service worker from
    // the same static tree: both answer under the prefix.
    const staticBase = asset.replace('out/vs/code/browser/workbench/workbench.js', '');
    const pre = `/${staticBase}out/vs/workbench/contrib/webview/browser/pre`;
    const host = await fetchIde(`${pre}/index.html?id=test&parentId=1&origin=x&swVersion=4`);
    assert.equal(host.status, 200);
    assert.match(host.headers.get('content-type') ?? '', /text\/html/);
    assert.match(await host.text(), /service-worker\.js/);
    const worker = await fetchIde(`${pre}/service-worker.js?v=4&vscode-resource-base-authority=x`);
    assert.equal(worker.status, 200);
    assert.match(worker.headers.get('content-type') ?? '', /javascript/);
    // It finds its scope from its own URL, so the prefix carries over to what it serves.
    assert.match(await worker.text(), /sw\.location\.pathname\.replace\(/);
    const bare = await fetch(`${server.url}/ide/${id}`, {
      redirect: 'manual',
      headers: { cookie: server.cookie },
    });
    assert.equal(bare.status, 308);
    assert.equal(bare.headers.get('location'), `/ide/${id}/`);
  });

  it('refuses people without access: 401 without a session, 403 with another person’s session', async () => {
    const anonymous = await fetchIde('/', null);
    assert.equal(anonymous.status, 401);
    assert.equal(((await anonymous.json()) as { code: string }).code, 'UNAUTHENTICATED');

    const other = await otherUserCookie();
    const forbidden = await fetchIde('/', other);
    assert.equal(forbidden.status, 403);
    assert.deepEqual(Object.keys((await forbidden.json()) as object).sort(), ['code', 'message']);
    const token = await server.api(`/api/workspaces/${id}/ide/token`, { method: 'POST', cookie: other });
    assert.equal(token.status, 404);

    const socket = new WebSocket(`${server.url.replace('http', 'ws')}/ide/${id}/socket`, {
      headers: { cookie: other },
    });
    const refused = await new Promise<number>((resolve) => {
      socket.once('unexpected-response', (_request, response) => resolve(response.statusCode ?? 0));
      socket.once('open', () => resolve(101));
    });
    assert.equal(refused, 403);
  });

  it('accepts a workspace token once in the URL, then as a cookie scoped to the IDE path', async () => {
    const issued = await server.api<{ token: string; url: string }>(`/api/workspaces/${id}/ide/token`, {
      method: 'POST',
    });
    assert.equal(issued.status, 200);
    const first = await fetchIde(`/?token=${issued.body.token}`, null);
    assert.equal(first.status, 303);
    assert.equal(first.headers.get('location'), `/ide/${id}/`);
    const setCookie = first.headers.get('set-cookie') ?? '';
    assert.match(setCookie, new RegExp(`Path=/ide/${id}/`));
    assert.match(setCookie, /HttpOnly/);
    const cookie = setCookie.split(';')[0]!;
    const next = await fetchIde('/', cookie);
    assert.equal(next.status, 302, 'the cookie alone opens the IDE');
  });

  it('answers an expired token with 401 TOKEN_EXPIRED, and a token of another workspace with 403', async () => {
    const keyFile = join(server.dataDir, 'secrets', 'workspace-token.key');
    const expired = await (await WorkspaceTokens.open(keyFile, { ttlSeconds: -60 })).issue({
      holder: 'someone',
      workspaceId: id,
      sessionId: crypto.randomUUID(),
    });
    const response = await fetchIde(`/?token=${expired.token}`, null);
    assert.equal(response.status, 401);
    assert.equal(((await response.json()) as { code: string }).code, 'TOKEN_EXPIRED');

    const tokens = await WorkspaceTokens.open(keyFile);
    const elsewhere = await tokens.issue({
      holder: 'someone',
      workspaceId: crypto.randomUUID(),
      sessionId: crypto.randomUUID(),
    });
    const wrong = await fetchIde('/', `nixspace_ide=${elsewhere.token}`);
    assert.equal(wrong.status, 403);
  });

  it('proxies WebSockets to code-server', async () => {
    // code-server answers an upgrade on its root with its own protocol; what matters here is
    // that the handshake reaches it and comes back through the proxy.
    const socket = new WebSocket(
      `${server.url.replace('http', 'ws')}/ide/${id}/?reconnectionToken=x&skipWebSocketFrames=true`,
      {
        headers: { cookie: server.cookie, origin: server.url },
      },
    );
    const opened = await new Promise<boolean>((resolve) => {
      socket.once('open', () => resolve(true));
      socket.once('unexpected-response', () => resolve(false));
      socket.once('error', () => resolve(false));
    });
    assert.ok(opened);
    socket.close();
    const foreign = new WebSocket(`${server.url.replace('http', 'ws')}/ide/${id}/`, {
      headers: { cookie: server.cookie, origin: 'https://evil.example' },
    });
    const status = await new Promise<number>((resolve) => {
      foreign.once('unexpected-response', (_request, response) => resolve(response.statusCode ?? 0));
      foreign.once('open', () => resolve(101));
    });
    assert.equal(status, 403);
  });

  it('keeps the workspace usable and says how to install code-server when it is missing', async () => {
    const emptyDir = await mkdtemp(join(tmpdir(), 'nixspace-no-ide-'));
    await using bare = await startTestServer({
      config: { ide: { enabled: true, dir: emptyDir, installOnDemand: false } },
    });
    try {
      const created = await bare.api<WorkspaceView>('/api/workspaces', {
        method: 'POST',
        body: { repoUrl: gitServer.url('app.git') },
      });
      await waitForStatus(bare, created.body.id, ['running']);
      let view: WorkspaceView | undefined;
      const deadline = Date.now() + 30_000;
      while (view?.ide?.status !== 'failed') {
        assert.ok(Date.now() < deadline, `IDE stayed ${JSON.stringify(view?.ide)}`);
        view = (await bare.api<WorkspaceView>(`/api/workspaces/${created.body.id}`)).body;
      }
      assert.equal(view.status, 'running', 'the workspace runs without its IDE');
      assert.match(view.ide.detail ?? '', /not installed in .*nixspace install-ide/);
      const proxied = await fetch(`${bare.url}/ide/${created.body.id}/`, {
        headers: { cookie: bare.cookie },
      });
      assert.equal(proxied.status, 503);
      const body = (await proxied.json()) as { code: string; message: string };
      assert.equal(body.code, 'IDE_UNAVAILABLE');
      assert.match(body.message, /failed: code-server is not installed/);
    } finally {
      await rm(emptyDir, { recursive: true, force: true });
    }
  });

  it("gives a viewer's share link a read-only IDE of its own, which cannot change the workspace", async () => {
    const link = await server.api<{ id: string; token: string }>(`/api/workspaces/${id}/shares`, {
      method: 'POST',
      body: { role: 'viewer' },
    });
    const visit = await fetch(`${server.url}/api/shares/visit`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ token: link.body.token }),
    });
    assert.equal(visit.status, 200);
    const guest = visit.headers
      .getSetCookie()
      .map((c) => c.split(';')[0]!)
      .join('; ');
    const root = await fetchIde('/', guest);
    assert.equal(root.status, 302);
    const page = await fetchIde(`/${(root.headers.get('location') ?? '').slice(2)}`, guest);
    assert.match(await page.text(), /workbench/);

    // A second code-server, with state apart from the owner's and every file opened read-only.
    const stateDir = join(server.dataDir, 'run', `${id}-viewer`, 'state');
    const socketPath = join(server.dataDir, 'run', `${id}-viewer`, 'code-server.sock');
    assert.ok(existsSync(socketPath));
    const settings = JSON.parse(await readFile(join(stateDir, 'user-data', 'User', 'settings.json'), 'utf8'));
    assert.deepEqual(settings['files.readonlyInclude'], { '**': true });
    // Its VS Code runs no shell for the viewer: no terminal profile but one that says so, no
    // tasks, and the workspace untrusted (restricted mode).
    const profiles = settings['terminal.integrated.profiles.linux'] as Record<string, unknown>;
    assert.deepEqual(
      Object.entries(profiles)
        .filter(([, profile]) => profile !== null)
        .map(([name]) => name),
      ['read-only view'],
    );
    assert.equal(settings['terminal.integrated.defaultProfile.linux'], 'read-only view');
    assert.doesNotMatch(JSON.stringify(profiles['read-only view']), /bash|exec|\$SHELL/);
    assert.equal(settings['task.allowAutomaticTasks'], 'off');
    assert.equal(settings['security.workspace.trust.enabled'], true);
    assert.equal((await fetchIde('/')).status, 302, "the owner's IDE is still the owner's");

    // Its sandbox sees the workspace read-only: even root in it cannot write the repository.
    const pid = await processWithArgument(socketPath);
    assert.ok(pid, 'the read-only IDE runs');
    const argv = (await readFile(`/proc/${pid}/cmdline`, 'utf8')).split('\0');
    assert.ok(!argv.includes('--disable-workspace-trust'), 'the viewer does not trust the workspace');
    const repo = join(server.nixspace.workspaces.workspaceDir(id), 'repo');
    const write = await exec('nsenter', [
      '-t',
      String(pid),
      '-m',
      '--',
      'touch',
      join(repo, 'viewer-was-here'),
    ]).then(
      () => ({ ok: true, stderr: '' }),
      (error: { stderr: string }) => ({ ok: false, stderr: error.stderr }),
    );
    assert.equal(write.ok, false);
    assert.match(write.stderr, /Read-only file system/);
    assert.ok(!existsSync(join(repo, 'viewer-was-here')));

    // It lives while a viewer has it open, and stops a while after the last one leaves.
    const socket = new WebSocket(
      `${server.url.replace('http', 'ws')}/ide/${id}/?reconnectionToken=viewer&skipWebSocketFrames=true`,
      { headers: { cookie: guest, origin: server.url } },
    );
    await new Promise((resolve, reject) => {
      socket.once('open', resolve);
      socket.once('error', reject);
    });
    // The viewer's tab goes away (the proxy relays bytes: the connection ends when the tab's does).
    socket.terminate();
    const deadline = Date.now() + 15_000;
    while (await processWithArgument(socketPath)) {
      assert.ok(Date.now() < deadline, 'the read-only IDE stopped after its last viewer left');
      await new Promise((r) => setTimeout(r, 100));
    }
    assert.equal((await fetchIde('/', guest)).status, 302, 'the next viewer starts it again');
    assert.ok(await processWithArgument(socketPath));

    // Revoking the link cuts its open IDE connection, and no new one gets through.
    const open = new WebSocket(
      `${server.url.replace('http', 'ws')}/ide/${id}/?reconnectionToken=viewer2&skipWebSocketFrames=true`,
      { headers: { cookie: guest, origin: server.url } },
    );
    await new Promise((resolve, reject) => {
      open.once('open', resolve);
      open.once('error', reject);
    });
    const cut = new Promise((resolve) => open.once('close', resolve));
    assert.equal((await server.api(`/api/shares/${link.body.id}`, { method: 'DELETE' })).status, 200);
    await cut;
    const again = new WebSocket(`${server.url.replace('http', 'ws')}/ide/${id}/?reconnectionToken=viewer3`, {
      headers: { cookie: guest, origin: server.url },
    });
    const refused = await new Promise<number>((resolve) => {
      again.once('unexpected-response', (_request, response) => resolve(response.statusCode ?? 0));
      again.once('open', () => resolve(101));
    });
    assert.equal(refused, 410);
  });

  it('stops code-server with the workspace and starts it again with it', async () => {
    const stopped = await server.api<WorkspaceView>(`/api/workspaces/${id}/stop`, { method: 'POST' });
    assert.equal(stopped.body.ide, null);
    assert.equal(existsSync(join(server.dataDir, 'run', 'host', `${id}.sock`)), false);
    assert.equal(
      await processWithArgument(join(server.dataDir, 'run', `${id}-viewer`, 'code-server.sock')),
      undefined,
      'the read-only IDE stops with the workspace',
    );
    const unavailable = await fetchIde('/');
    assert.equal(unavailable.status, 503);
    assert.equal(((await unavailable.json()) as { code: string }).code, 'IDE_UNAVAILABLE');

    await server.api(`/api/workspaces/${id}/start`, { method: 'POST' });
    const view = await waitForIde(id, 'running');
    assert.ok(view.ide?.startedAt);
    assert.equal((await fetchIde('/')).status, 302);
  });
});
