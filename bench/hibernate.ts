// Figures for idle hibernation on bubblewrap: a hibernated workspace (its processes stopped, its
// files kept) resumed by the page's request until it runs, and by opening a terminal until the
// shell answers, against a plain `bwrap true` in the same run. The server runs as its own process
// with a short idle timeout, so the workspace hibernates again by itself between runs.

import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import WebSocket from 'ws';
import { startGitHttpServer } from '../test/support/git-http-server.js';
import { type BenchResult, percentile, round, withRatio } from './results-file.js';
import { api, createToReady, makeSmallRepo, type Server, startServer, stopServer } from './spine.js';

const RUNS = 7;

async function bwrapTrue(): Promise<number> {
  const started = performance.now();
  const child = spawn(
    'bwrap',
    ['--ro-bind', '/', '/', '--dev', '/dev', '--proc', '/proc', '--unshare-pid', 'true'],
    { stdio: 'ignore' },
  );
  const [code] = (await once(child, 'exit')) as [number | null];
  if (code !== 0) throw new Error('bwrap true failed');
  return performance.now() - started;
}

async function waitHibernated(server: Server, id: string): Promise<void> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const ws = await api<{ status: string }>(server, `/api/workspaces/${id}`);
    if (ws.status === 'hibernated') return;
    if (Date.now() > deadline) throw new Error(`workspace ${id} did not hibernate (${ws.status})`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** Opens a terminal on the workspace and resolves once its shell echoed back. */
async function terminalAnswers(server: Server, id: string): Promise<void> {
  const socket = new WebSocket(`${server.url.replace('http', 'ws')}/api/workspaces/${id}/terminal`, {
    headers: { cookie: server.cookie },
  });
  let output = '';
  await new Promise<void>((resolve, reject) => {
    socket.on('message', (data: Buffer, binary) => {
      if (!binary) return;
      output += data.toString('utf8');
      if (output.includes('RESUMED-42')) resolve();
    });
    socket.once('open', () => socket.send(Buffer.from('echo RESUMED-$((6*7))\r'), { binary: true }));
    socket.once('error', reject);
    socket.once('close', () => reject(new Error(`the terminal closed: ${output}`)));
  });
  socket.removeAllListeners('close');
  socket.close();
}

export async function benchHibernate(): Promise<BenchResult[]> {
  await using git = await startGitHttpServer();
  const repoUrl = await makeSmallRepo(git);
  const raw: number[] = [];
  for (let i = 0; i < RUNS; i++) raw.push(await bwrapTrue());
  const baseline = round(percentile(raw, 50));

  const dataDir = await mkdtemp(join(tmpdir(), 'nixspace-bench-hibernate-'));
  const server = await startServer(dataDir, ['--hibernate-after', '1s', '--no-ide']);
  try {
    const { id } = await createToReady(server, repoUrl);
    const byRequest: number[] = [];
    const byTerminal: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      await waitHibernated(server, id);
      const started = performance.now();
      const ws = await api<{ status: string }>(server, `/api/workspaces/${id}/resume`, {});
      if (ws.status !== 'running') throw new Error(`resume left the workspace ${ws.status}`);
      byRequest.push(performance.now() - started);

      await waitHibernated(server, id);
      const opened = performance.now();
      await terminalAnswers(server, id);
      byTerminal.push(performance.now() - opened);
    }
    return [
      withRatio({
        name: 'resume from hibernate (bubblewrap), request to running (p50)',
        value: round(percentile(byRequest, 50)),
        unit: 'ms',
        baseline,
        note: `goal < 2000 ms; ${RUNS} runs, max ${round(Math.max(...byRequest))} ms; no IDE; baseline: bwrap true`,
      }),
      withRatio({
        name: 'resume from hibernate (bubblewrap), terminal open to shell answer (p50)',
        value: round(percentile(byTerminal, 50)),
        unit: 'ms',
        baseline,
        note: `${RUNS} runs, max ${round(Math.max(...byTerminal))} ms; files kept, processes started anew; baseline: bwrap true`,
      }),
    ];
  } finally {
    await stopServer(server);
    await rm(dataDir, { recursive: true, force: true });
  }
}
