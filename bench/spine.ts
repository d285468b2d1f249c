// Figures for the spine: create-to-ready against raw `git clone` + `bwrap true`, terminal echo
// round trip over the WebSocket, and server RSS idle and with 20 open terminals. The server runs
// as its own process (the built CLI), as a user would run it.

import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import WebSocket from 'ws';
import { makeRepo } from '../test/support/git-fixtures.js';
import { type GitHttpServer, startGitHttpServer } from '../test/support/git-http-server.js';
import { endSandboxesUnder } from '../test/support/leftover-sandboxes.js';
import { unmountUnder } from '../test/support/mounts.js';
import { type BenchResult, percentile, round, withRatio } from './results-file.js';

const RUNS = 7;
const ECHOES = 300;

export interface Server {
  child: ChildProcess;
  url: string;
  cookie: string;
  dataDir: string;
}

export async function startServer(dataDir: string, flags: string[] = []): Promise<Server> {
  const child = spawn(
    process.execPath,
    ['bin/nixspace.js', 'serve', '--port', '0', '--data-dir', dataDir, '--log-level', 'warn', ...flags],
    {
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  let out = '';
  const link = await new Promise<string>((resolve, reject) => {
    child.stdout!.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const match = /(http:\/\/\S+\/auth\/link\?token=\S+)/.exec(out);
      if (match) resolve(match[1]!);
    });
    child.once('exit', (code) => reject(new Error(`server exited (${code}): ${out}`)));
  });
  const url = new URL(link).origin;
  const response = await fetch(link, { redirect: 'manual' });
  const cookie = response.headers.get('set-cookie')!.split(';')[0]!;
  return { child, url, cookie, dataDir };
}

/** Stops the server, and the workspaces it leaves running (they outlive a server), and their volumes. */
export async function stopServer(server: Server): Promise<void> {
  const exited = once(server.child, 'exit');
  server.child.kill('SIGTERM');
  await exited;
  await endSandboxesUnder(server.dataDir);
  await unmountUnder(server.dataDir);
}

export async function api<T>(server: Server, path: string, body?: unknown): Promise<T> {
  const response = await fetch(`${server.url}${path}`, {
    method: body === undefined ? 'GET' : 'POST',
    headers: { cookie: server.cookie, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return (await response.json()) as T;
}

/** Creates a workspace and resolves with the milliseconds until it runs (seen on the events stream). */
export async function createToReady(server: Server, repoUrl: string): Promise<{ ms: number; id: string }> {
  const started = performance.now();
  const ws = await api<{ id: string }>(server, '/api/workspaces', { repoUrl });
  await new Promise<void>((resolve, reject) => {
    const socket = new WebSocket(`${server.url.replace('http', 'ws')}/api/workspaces/${ws.id}/events`, {
      headers: { cookie: server.cookie },
    });
    socket.on('message', (data) => {
      const event = JSON.parse(String(data)) as {
        type: string;
        workspace?: { status: string; error: unknown };
      };
      if (event.workspace?.status === 'running') {
        socket.close();
        resolve();
      } else if (event.workspace?.status === 'failed') {
        socket.close();
        reject(new Error(JSON.stringify(event.workspace.error)));
      }
    });
    socket.on('error', reject);
  });
  return { ms: performance.now() - started, id: ws.id };
}

function openTerminal(
  server: Server,
  id: string,
  terminal?: string,
): Promise<{
  socket: WebSocket;
  output: () => string;
  onData: (fn: () => void) => void;
  hello: Promise<string>;
}> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(
      `${server.url.replace('http', 'ws')}/api/workspaces/${id}/terminal?cols=120&rows=30${terminal ? `&terminal=${terminal}` : ''}`,
      {
        headers: { cookie: server.cookie },
      },
    );
    let output = '';
    let listener: (() => void) | undefined;
    let greeted: (terminalId: string) => void = () => {};
    const hello = new Promise<string>((resolve) => {
      greeted = resolve;
    });
    socket.on('message', (data: Buffer, binary) => {
      if (!binary) {
        const control = JSON.parse(data.toString('utf8')) as { type?: string; terminalId?: string };
        if (control.type === 'hello') greeted(String(control.terminalId));
        return;
      }
      output += data.toString('utf8');
      listener?.();
    });
    socket.once('open', () =>
      resolve({
        socket,
        output: () => output,
        onData: (fn) => {
          listener = fn;
        },
        hello,
      }),
    );
    socket.once('error', reject);
  });
}

async function waitOutput(term: Awaited<ReturnType<typeof openTerminal>>, text: string): Promise<void> {
  if (term.output().includes(text)) return;
  await new Promise<void>((resolve) => term.onData(() => term.output().includes(text) && resolve()));
}

export function rssKiB(pid: number): Promise<number> {
  return readFile(`/proc/${pid}/status`, 'utf8').then((status) =>
    Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? Number.NaN),
  );
}

// Asynchronous on purpose: the git server answering the clone runs in this process.
async function timeCommand(argv: string[]): Promise<number> {
  const started = performance.now();
  const child = spawn(argv[0]!, argv.slice(1), { stdio: 'ignore' });
  const [code] = (await once(child, 'exit')) as [number | null];
  if (code !== 0) throw new Error(`${argv.join(' ')} failed`);
  return performance.now() - started;
}

/** The small repository of the creation figures: 10 commits, 50 source files. */
export async function makeSmallRepo(git: GitHttpServer): Promise<string> {
  const files: Record<string, string> = {};
  for (let i = 0; i < 50; i++) files[`src/module-${i}.ts`] = `export const value${i} = ${i};\n`.repeat(20);
  await makeRepo(git.root, 'small.git', { commits: 10, files });
  return git.url('small.git');
}

export async function benchSpine(): Promise<BenchResult[]> {
  const results: BenchResult[] = [];
  await using git = await startGitHttpServer();
  const repoUrl = await makeSmallRepo(git);

  // The raw operations underneath, in the same run.
  const scratch = await mkdtemp(join(tmpdir(), 'nixspace-bench-raw-'));
  const raw: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const clone = await timeCommand(['git', 'clone', '-q', repoUrl, join(scratch, `c${i}`)]);
    const bwrap = await timeCommand([
      'bwrap',
      '--ro-bind',
      '/',
      '/',
      '--dev',
      '/dev',
      '--proc',
      '/proc',
      '--unshare-pid',
      'true',
    ]);
    raw.push(clone + bwrap);
  }
  await rm(scratch, { recursive: true, force: true });
  const rawMedian = round(percentile(raw, 50));

  // The first start of a data directory runs PGlite's initdb, whose memory stays with the
  // process; measure that start, then the steady state of a second start.
  const dataDir = await mkdtemp(join(tmpdir(), 'nixspace-bench-'));
  const first = await startServer(dataDir);
  await new Promise((r) => setTimeout(r, 300));
  const firstRss = await rssKiB(first.child.pid!);
  await stopServer(first);
  results.push({
    name: 'server RSS, first start (creates the database)',
    value: round(firstRss / 1024),
    unit: 'MiB',
    note: 'PGlite initdb',
  });

  let server = await startServer(dataDir);
  try {
    const cold = await createToReady(server, repoUrl);
    results.push(
      withRatio({
        name: 'workspace create-to-ready, cold mirror',
        value: round(cold.ms),
        unit: 'ms',
        baseline: rawMedian,
        note: 'small repo over loopback HTTP; baseline: git clone + bwrap true',
      }),
    );
    const warm: number[] = [];
    const ids: string[] = [cold.id];
    for (let i = 0; i < RUNS; i++) {
      const run = await createToReady(server, repoUrl);
      warm.push(run.ms);
      ids.push(run.id);
    }
    const last = await api<{ steps: { name: string; durationMs: number }[] }>(
      server,
      `/api/workspaces/${ids.at(-1)}`,
    );
    const breakdown = last.steps.map((s) => `${s.name} ${s.durationMs}`).join(', ');
    results.push(
      withRatio({
        name: 'workspace create-to-ready, warm mirror (p50)',
        value: round(percentile(warm, 50)),
        unit: 'ms',
        baseline: rawMedian,
        note: `goal < 2000 ms; ${RUNS} runs, max ${round(Math.max(...warm))} ms; steps of the last run (ms): ${breakdown}`,
      }),
    );
    // Leave one workspace running for the terminal figures.
    for (const id of ids.slice(1))
      await fetch(`${server.url}/api/workspaces/${id}`, {
        method: 'DELETE',
        headers: { cookie: server.cookie },
      });

    const term = await openTerminal(server, cold.id);
    term.socket.send(Buffer.from('stty -echoctl; PS1="$ "; echo READY\r'), { binary: true });
    await waitOutput(term, 'READY');
    const rtts: number[] = [];
    for (let i = 0; i < ECHOES; i++) {
      const before = term.output().length;
      const started = performance.now();
      await new Promise<void>((resolve) => {
        term.onData(() => term.output().length > before && resolve());
        term.socket.send(Buffer.from('x'), { binary: true });
      });
      rtts.push(performance.now() - started);
      if (i % 50 === 49) term.socket.send(Buffer.from('\x15'), { binary: true }); // Ctrl-U clears the line
    }
    term.socket.close();
    results.push({
      name: 'terminal keystroke echo p50',
      value: round(percentile(rtts, 50), 2),
      unit: 'ms',
      note: 'WebSocket → PTY in sandbox → WebSocket, loopback',
    });
    results.push({
      name: 'terminal keystroke echo p99',
      value: round(percentile(rtts, 99), 2),
      unit: 'ms',
      note: 'goal < 20 ms',
    });

    await new Promise((r) => setTimeout(r, 500));
    const idle = await rssKiB(server.child.pid!);
    results.push({ name: 'server RSS, idle with one workspace', value: round(idle / 1024), unit: 'MiB' });
    const terminals = [];
    for (let i = 0; i < 20; i++) {
      const t = await openTerminal(server, cold.id);
      t.socket.send(Buffer.from(`echo T${i}OK\r`), { binary: true });
      terminals.push(t);
    }
    await Promise.all(terminals.map((t, i) => waitOutput(t, `T${i}OK`)));
    const busy = await rssKiB(server.child.pid!);
    results.push({
      name: 'server RSS, 20 open terminals',
      value: round(busy / 1024),
      unit: 'MiB',
      baseline: round(idle / 1024),
      ratio: round(busy / idle, 2),
      note: `${round((busy - idle) / 1024 / 20, 2)} MiB per terminal`,
    });
    for (const t of terminals) t.socket.close();

    // A server restart under a running workspace: the new server takes the sandbox back, and the
    // tab reattaches to the same shell, which ran on.
    const shell = await openTerminal(server, cold.id);
    const shellId = await shell.hello;
    shell.socket.send(Buffer.from('export KEPT=yes\r'), { binary: true });
    shell.socket.close();
    const exited = once(server.child, 'exit');
    server.child.kill('SIGTERM');
    await exited;
    const restartedAt = performance.now();
    server = await startServer(dataDir);
    const listening = performance.now() - restartedAt;
    const again = await openTerminal(server, cold.id, shellId);
    if ((await again.hello) !== shellId) throw new Error('the restarted server opened a new shell');
    again.socket.send(Buffer.from('echo "K=$KEPT"\r'), { binary: true });
    await waitOutput(again, 'K=yes');
    const reattached = performance.now() - restartedAt;
    again.socket.close();
    results.push(
      withRatio({
        name: 'server restart to the same shell answering again',
        value: round(reattached),
        unit: 'ms',
        baseline: round(listening),
        note: 'new server process until the reattached shell echoes a variable set before; baseline: until it listens (start, migrations, taking the workspace back)',
      }),
    );
  } finally {
    await stopServer(server);
    await rm(dataDir, { recursive: true, force: true });
  }
  return results;
}
