// Figures for the IDE: time from a running workspace to code-server answering through the proxy
// and to the VS Code workbench visible in Chromium, each against code-server started directly
// (no sandbox, no proxy) in the same run; RSS of one code-server idle and with the workbench open.

import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdir, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { Agent, request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import WebSocket from 'ws';
import { defaultIdeDir } from '../src/config.js';
import { type CodeServerInstallation, CodeServerInstaller } from '../src/services/ide/code-server-install.js';
import { freePort } from '../src/services/workspaces/backing-services/free-port.js';
import { launchBrowser } from '../test/support/browser.js';
import { makeRepo } from '../test/support/git-fixtures.js';
import { startGitHttpServer } from '../test/support/git-http-server.js';
import { startTestServer, type TestServer } from '../test/support/nixspace-server.js';
import { type BenchResult, percentile, round, withRatio } from './results-file.js';

const RUNS = 3;

function httpOk(options: {
  socketPath?: string;
  port?: number;
  path: string;
  cookie?: string;
}): Promise<boolean> {
  return new Promise((resolve) => {
    const req = request(
      {
        ...(options.socketPath
          ? { socketPath: options.socketPath }
          : { host: '127.0.0.1', port: options.port }),
        path: options.path,
        headers: options.cookie ? { cookie: options.cookie } : {},
      },
      (res) => {
        res.resume();
        resolve(res.statusCode !== undefined && res.statusCode < 400);
      },
    );
    req.once('error', () => resolve(false));
    req.end();
  });
}

async function until(check: () => Promise<boolean>, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** Total RSS (MiB) of the processes whose command line or environment matches. */
async function rssMiB(match: (cmdline: string, environ: string) => boolean): Promise<number> {
  let kib = 0;
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const cmdline = await readFile(`/proc/${entry}/cmdline`, 'utf8').catch(() => '');
    const environ = await readFile(`/proc/${entry}/environ`, 'utf8').catch(() => '');
    if (!cmdline || !match(cmdline, environ)) continue;
    const status = await readFile(`/proc/${entry}/status`, 'utf8').catch(() => '');
    kib += Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
  }
  return round(kib / 1024);
}

/** code-server started the plain way: on the host, on a loopback port, no sandbox, no proxy. */
async function startDirect(installation: CodeServerInstallation, dir: string) {
  const port = await freePort();
  await mkdir(join(dir, 'repo'), { recursive: true });
  const started = performance.now();
  const child: ChildProcess = spawn(
    installation.node,
    [
      installation.entry,
      '--auth',
      'none',
      '--bind-addr',
      `127.0.0.1:${port}`,
      '--disable-telemetry',
      '--disable-update-check',
      '--disable-workspace-trust',
      '--user-data-dir',
      join(dir, 'user-data'),
      '--extensions-dir',
      join(dir, 'extensions'),
      '--config',
      join(dir, 'config.yaml'),
      join(dir, 'repo'),
    ],
    { stdio: 'ignore', detached: true, env: { ...process.env, HOME: dir, NIXSPACE_BENCH_DIRECT: dir } },
  );
  await until(() => httpOk({ port, path: '/healthz' }));
  const readyMs = performance.now() - started;
  const stop = async () => {
    const exited = once(child, 'exit');
    process.kill(-child.pid!, 'SIGKILL');
    await exited;
  };
  return { port, readyMs, stop, dir };
}

/** Round trips of GET /healthz on one kept-alive connection to a Unix socket, in ms each. */
async function roundTrips(socketPath: string, count: number): Promise<number[]> {
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  const times: number[] = [];
  try {
    for (let i = 0; i < count; i++) {
      const started = performance.now();
      await new Promise<void>((resolve, reject) => {
        const req = request({ socketPath, path: '/healthz', agent }, (res) => {
          res.resume();
          res.once('end', () => resolve());
        });
        req.once('error', reject);
        req.end();
      });
      times.push(performance.now() - started);
    }
  } finally {
    agent.destroy();
  }
  return times;
}

async function createRunning(
  server: TestServer,
  repoUrl: string,
): Promise<{ id: string; runningAt: number }> {
  const { body } = await server.api<{ id: string }>('/api/workspaces', { method: 'POST', body: { repoUrl } });
  const runningAt = await new Promise<number>((resolve, reject) => {
    const socket = new WebSocket(`${server.url.replace('http', 'ws')}/api/workspaces/${body.id}/events`, {
      headers: { cookie: server.cookie },
    });
    socket.on('message', (data) => {
      const event = JSON.parse(String(data)) as { workspace?: { status: string } };
      if (event.workspace?.status === 'running') {
        socket.close();
        resolve(performance.now());
      } else if (event.workspace?.status === 'failed') reject(new Error('workspace failed'));
    });
  });
  return { id: body.id, runningAt };
}

export async function benchIde(): Promise<BenchResult[]> {
  const installation = await new CodeServerInstaller({ dir: defaultIdeDir() }).ensure({
    onLog: (line) => console.error(`install: ${line}`),
  });
  const results: BenchResult[] = [];
  await using git = await startGitHttpServer();
  await makeRepo(git.root, 'app.git', { files: { 'index.js': 'console.log("hi")\n' } });
  const scratch = await mkdtemp(join(tmpdir(), 'nixspace-bench-ide-'));
  const browser = await launchBrowser();
  try {
    // The raw operation: code-server alone, HTTP-ready, then its workbench in Chromium.
    const direct: number[] = [];
    const directWorkbench: number[] = [];
    let directIdle = 0;
    let directOpen = 0;
    for (let i = 0; i < RUNS; i++) {
      const run = await startDirect(installation, join(scratch, `direct-${i}`));
      direct.push(run.readyMs);
      const mine = (_cmdline: string, environ: string) =>
        environ.includes(`NIXSPACE_BENCH_DIRECT=${run.dir}`);
      if (i === 0) {
        await new Promise((resolve) => setTimeout(resolve, 2000));
        directIdle = await rssMiB(mine);
      }
      const context = await browser.browser.newContext({ viewport: { width: 1280, height: 800 } });
      const page = await context.newPage();
      const started = performance.now();
      await page.goto(`http://127.0.0.1:${run.port}/`);
      await page.locator('.monaco-workbench').waitFor({ timeout: 60_000 });
      directWorkbench.push(performance.now() - started);
      if (i === 0) {
        await new Promise((resolve) => setTimeout(resolve, 3000));
        directOpen = await rssMiB(mine);
      }
      await context.close();
      await run.stop();
    }

    const server = await startTestServer({ config: { ide: { enabled: true } } });
    try {
      const port = Number(new URL(server.url).port);
      const ideReady = (id: string) =>
        until(() => httpOk({ port, path: `/ide/${id}/healthz`, cookie: server.cookie }));
      // Memory first, in a workspace of its own: idle before any window, then with one open.
      const memory = await createRunning(server, git.url('app.git'));
      await ideReady(memory.id);
      const ideProcesses = (cmdline: string, environ: string) =>
        cmdline.includes(installation.dir) && environ.includes(`NIXSPACE_WORKSPACE_ID=${memory.id}`);
      await new Promise((resolve) => setTimeout(resolve, 2000));
      const idle = await rssMiB(ideProcesses);
      // The server reaches code-server through the agent (the host socket it listens on, carried on
      // from inside); the raw operation is code-server's own socket, which bubblewrap's bind mount
      // lets the bench reach directly.
      const viaAgent = await roundTrips(join(server.dataDir, 'run', 'host', `${memory.id}.sock`), 300);
      const directSocket = await roundTrips(join(server.dataDir, 'run', memory.id, 'code-server.sock'), 300);
      const memoryContext = await browser.browser.newContext({ viewport: { width: 1280, height: 800 } });
      const memoryPage = await memoryContext.newPage();
      await memoryPage.goto(await server.nixspace.ownerLoginLink());
      await memoryPage.goto(`${server.url}/w/${memory.id}`);
      await memoryPage
        .frameLocator('[data-testid="ide-frame"]')
        .locator('.monaco-workbench')
        .waitFor({ timeout: 60_000 });
      await new Promise((resolve) => setTimeout(resolve, 3000));
      const open = await rssMiB(ideProcesses);
      await memoryContext.close();
      await server.api(`/api/workspaces/${memory.id}`, { method: 'DELETE' });

      const toReady: number[] = [];
      const toWorkbench: number[] = [];
      const fullPage: number[] = [];
      for (let i = 0; i < RUNS; i++) {
        const context = await browser.browser.newContext({ viewport: { width: 1280, height: 800 } });
        const page = await context.newPage();
        await page.goto(await server.nixspace.ownerLoginLink());
        const { id, runningAt } = await createRunning(server, git.url('app.git'));
        const view = page.goto(`${server.url}/w/${id}`);
        await ideReady(id);
        toReady.push(performance.now() - runningAt);
        await view;
        await page
          .frameLocator('[data-testid="ide-frame"]')
          .locator('.monaco-workbench')
          .waitFor({ timeout: 60_000 });
        toWorkbench.push(performance.now() - runningAt);
        await context.close();
        // Full page (Launch IDE) against the same page served directly.
        const again = await browser.browser.newContext({ viewport: { width: 1280, height: 800 } });
        const full = await again.newPage();
        await full.goto(await server.nixspace.ownerLoginLink());
        const started = performance.now();
        await full.goto(`${server.url}/ide/${id}/`);
        await full.locator('.monaco-workbench').waitFor({ timeout: 60_000 });
        fullPage.push(performance.now() - started);
        await again.close();
        await server.api(`/api/workspaces/${id}`, { method: 'DELETE' });
      }
      const directMedian = round(percentile(direct, 50));
      results.push(
        withRatio({
          name: 'IDE HTTP-ready after workspace running (p50)',
          value: round(percentile(toReady, 50)),
          unit: 'ms',
          baseline: directMedian,
          note: `goal < 2000 ms; ${RUNS} runs, max ${round(Math.max(...toReady))} ms; baseline: code-server started directly until /healthz`,
        }),
        withRatio({
          name: 'VS Code workbench visible after workspace running (p50)',
          value: round(percentile(toWorkbench, 50)),
          unit: 'ms',
          baseline: round(percentile(direct, 50) + percentile(directWorkbench, 50)),
          note: 'workspace page in Chromium, IDE in its frame; baseline: direct start + direct page load',
        }),
        withRatio({
          name: 'VS Code workbench load, full page through the proxy (p50)',
          value: round(percentile(fullPage, 50)),
          unit: 'ms',
          baseline: round(percentile(directWorkbench, 50)),
          note: 'Launch IDE page vs the same page from code-server on a loopback port; the direct runs go first, with a colder browser',
        }),
        withRatio({
          name: 'IDE request through the agent, round trip (p50)',
          value: round(percentile(viaAgent.slice(50), 50), 2),
          unit: 'ms',
          baseline: round(percentile(directSocket.slice(50), 50), 2),
          note: `GET /healthz on a kept-alive connection, 250 after 50 warm-up; p99 ${round(percentile(viaAgent.slice(50), 99), 2)} ms against ${round(percentile(directSocket.slice(50), 99), 2)} ms; baseline: code-server's own socket`,
        }),
        withRatio({
          name: 'code-server RSS, idle',
          value: idle,
          unit: 'MiB',
          baseline: directIdle,
          note: 'all its processes, 2 s after ready, before any window; baseline: code-server started directly',
        }),
        withRatio({
          name: 'code-server RSS, workbench open',
          value: open,
          unit: 'MiB',
          baseline: directOpen,
          note: 'one window with the extension host running',
        }),
      );
    } finally {
      await server.close();
    }
  } finally {
    await browser.close();
    await rm(scratch, { recursive: true, force: true });
  }
  return results;
}
