// Issue 11, item 4: a viewer's read-only sandbox reached the owner's code-server socket (it ran
// with no authentication), and through it the owner's VS Code and its terminal. Real code-server in
// real sandboxes: the viewer's sandbox must find no socket to it, and code-server must refuse
// requests without the secret of its start, which only the server's proxy holds.

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { request as httpRequest } from 'node:http';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import WebSocket from 'ws';
import { defaultIdeDir } from '../../src/config.js';
import { CodeServerInstaller } from '../../src/services/ide/code-server-install.js';
import type { WorkspaceView } from '../../src/services/workspaces/workspace-view.js';
import { makeRepo } from '../support/git-fixtures.js';
import { type GitHttpServer, startGitHttpServer } from '../support/git-http-server.js';
import { createRunningWorkspace, startTestServer, type TestServer } from '../support/nixspace-server.js';
import { processWithArgument } from '../support/node-processes.js';

const exec = promisify(execFile);

describe("a viewer's read-only IDE", () => {
  let gitServer: GitHttpServer;
  let server: TestServer;
  let id = '';

  before(async () => {
    await new CodeServerInstaller({ dir: defaultIdeDir() }).ensure();
    gitServer = await startGitHttpServer();
    await makeRepo(gitServer.root, 'app.git', { files: { 'main.py': 'print("hi")\n' } });
    server = await startTestServer({ config: { ide: { enabled: true } } });
    id = await createRunningWorkspace(server, gitServer.url('app.git'));
    const deadline = Date.now() + 60_000;
    while ((await server.api<WorkspaceView>(`/api/workspaces/${id}`)).body.ide?.status !== 'running') {
      assert.ok(Date.now() < deadline, 'the IDE runs');
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  });

  after(async () => {
    await server?.close();
    await gitServer?.close();
  });

  const fetchIde = (path: string, cookie: string | null = server.cookie) =>
    fetch(`${server.url}/ide/${id}${path}`, { redirect: 'manual', headers: cookie ? { cookie } : {} });

  it("keeps the owner's code-server out of a viewer's sandbox, and refuses requests without its per-start secret", async () => {
    // Item 4 of issue 11: from the viewer's read-only sandbox (what its VS Code's terminal would
    // run in), the owner's code-server socket was reachable, and it answered without a secret.
    const link = await server.api<{ token: string }>(`/api/workspaces/${id}/shares`, {
      method: 'POST',
      body: { role: 'viewer' },
    });
    const visit = await fetch(`${server.url}/api/shares/visit`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ token: link.body.token }),
    });
    const guest = visit.headers
      .getSetCookie()
      .map((c) => c.split(';')[0]!)
      .join('; ');
    // An open tab keeps the read-only IDE running.
    const tab = new WebSocket(
      `${server.url.replace('http', 'ws')}/ide/${id}/?reconnectionToken=probe&skipWebSocketFrames=true`,
      { headers: { cookie: guest, origin: server.url } },
    );
    after(() => tab.terminate());
    await new Promise((resolve, reject) => {
      tab.once('open', resolve);
      tab.once('error', reject);
    });
    const dir = server.nixspace.workspaces.workspaceDir(id);
    const owner = await processWithArgument(join(dir, '.nixspace', 'ide', 'user-data'));
    const viewer = await processWithArgument(
      join(server.dataDir, 'run', `${id}-viewer`, 'state', 'user-data'),
    );
    assert.ok(owner && viewer, 'both IDEs run');
    const socketOf = async (pid: number) => {
      const args = (await readFile(`/proc/${pid}/cmdline`, 'utf8')).split('\0');
      return args[args.indexOf('--socket') + 1]!;
    };
    const ownerSocket = await socketOf(owner);
    const viewerSocket = await socketOf(viewer);

    // Inside the viewer's sandbox: the owner's socket path, and every socket it can find under
    // the data directory but its own, must not connect.
    const probe = `
      const { connect } = require('node:net');
      const { lstatSync, readdirSync } = require('node:fs');
      const found = [];
      const walk = (d) => { let names = []; try { names = readdirSync(d); } catch { return; }
        for (const n of names) { const p = d + '/' + n; let s; try { s = lstatSync(p); } catch { continue; }
          if (s.isSocket()) found.push(p); else if (s.isDirectory()) walk(p); } };
      walk(process.argv[1]);
      const paths = [...new Set([process.argv[2], ...found])].filter((p) => p !== process.argv[3]);
      Promise.all(paths.map((p) => new Promise((resolve) => {
        const s = connect(p);
        s.once('connect', () => { s.destroy(); resolve(p + ' connected'); });
        s.once('error', (e) => resolve(p + ' ' + e.code));
      }))).then((lines) => console.log(lines.join('\\n')));`;
    const installation = await new CodeServerInstaller({ dir: defaultIdeDir() }).installed();
    const { stdout } = await exec('nsenter', [
      '-t',
      String(viewer),
      '-m',
      '-n',
      '--',
      installation!.node,
      '-e',
      probe,
      server.dataDir,
      ownerSocket,
      viewerSocket,
    ]);
    assert.match(stdout, new RegExp(`${ownerSocket} E`), 'the owner socket path is tried');
    assert.doesNotMatch(stdout, /connected/, `nothing the viewer can reach connects:\n${stdout}`);

    // The owner's code-server itself answers nothing of VS Code without the secret its start got.
    const answer = await new Promise<number>((resolve, reject) => {
      const req = httpRequest(
        { socketPath: ownerSocket, path: '/vscode-remote-resource?path=/etc/hostname' },
        (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        },
      );
      req.once('error', reject);
      req.end();
    });
    assert.equal(answer, 401);
    assert.equal((await fetchIde('/')).status, 302, 'the proxy brings the secret');
  });
});
