// Figures for jobs, each against the raw operation in the same run:
// - latency from a process writing a line to a Socket.IO client receiving it (p50 / p99), against
//   reading the same process's pipe directly;
// - load: N concurrent jobs each writing R kB/s for S s (default 100 × 100 kB/s × 30 s; set
//   NIXSPACE_BENCH_JOBS_LOAD=5x1x10 for the brief's minimum), checking every byte live and stored;
// - server RSS added per concurrent job, against a bare Node process holding the same children.

import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { io, type Socket } from 'socket.io-client';
import { makeRepo } from '../test/support/git-fixtures.js';
import { startGitHttpServer } from '../test/support/git-http-server.js';
import { type BenchResult, percentile, round, withRatio } from './results-file.js';
import { api, createToReady, rssKiB, type Server, startServer, stopServer } from './spine.js';

const LATENCY_LINES = 300;
const MEMORY_JOBS = 200;

const wallNs = () => BigInt(Math.round((performance.timeOrigin + performance.now()) * 1e6));

interface LogEvent {
  jobId: string;
  stream: string;
  chunk: string;
  offset: number;
}

function connect(server: Server): Promise<Socket> {
  const socket = io(`${server.url}/jobs`, {
    transports: ['websocket'],
    reconnection: false,
    extraHeaders: { cookie: server.cookie },
  });
  return new Promise((resolve, reject) => {
    socket.once('connect', () => resolve(socket));
    socket.once('connect_error', reject);
  });
}

async function execute(socket: Socket, payload: Record<string, unknown>): Promise<string> {
  const answer = (await socket.timeout(60_000).emitWithAck('execute-command', payload)) as {
    job?: { id: string };
    error?: { message: string };
  };
  if (!answer.job) throw new Error(`job refused: ${answer.error?.message}`);
  return answer.job.id;
}

/** A line every 10 ms, each carrying the wall-clock nanoseconds at which it was written. */
const latencyScript = `for i in $(seq 1 ${LATENCY_LINES}); do date +%s%N; sleep 0.01; done`;

async function rawPipeLatencies(): Promise<number[]> {
  const child = spawn('/bin/bash', ['-c', latencyScript], { stdio: ['ignore', 'pipe', 'inherit'] });
  const latencies: number[] = [];
  let partial = '';
  child.stdout.on('data', (data: Buffer) => {
    const now = wallNs();
    const lines = (partial + data.toString()).split('\n');
    partial = lines.pop() ?? '';
    for (const line of lines) latencies.push(Number(now - BigInt(line)) / 1e6);
  });
  await new Promise((resolve) => child.once('close', resolve));
  return latencies;
}

async function jobLatencies(server: Server, socket: Socket, workspace: string): Promise<number[]> {
  const latencies: number[] = [];
  const partial = new Map<string, string>();
  let jobId = '';
  const done = new Promise<void>((resolve) => {
    socket.on('job:done', (event: { jobId: string }) => {
      if (event.jobId === jobId) resolve();
    });
  });
  socket.on('job:log', (event: LogEvent) => {
    if (event.jobId !== jobId || event.stream !== 'stdout') return;
    const now = wallNs();
    const lines = ((partial.get(jobId) ?? '') + event.chunk).split('\n');
    partial.set(jobId, lines.pop() ?? '');
    for (const line of lines) latencies.push(Number(now - BigInt(line)) / 1e6);
  });
  jobId = await execute(socket, { command: latencyScript, target: workspace });
  await done;
  socket.off('job:log');
  socket.off('job:done');
  void server;
  return latencies;
}

function loadParams(): { jobs: number; kbPerSecond: number; seconds: number } {
  const spec = process.env.NIXSPACE_BENCH_JOBS_LOAD ?? '100x100x30';
  const [jobs, kb, seconds] = spec.split('x').map(Number);
  return { jobs: jobs || 100, kbPerSecond: kb || 100, seconds: seconds || 30 };
}

/**
 * Lines of 100 bytes, numbered; `kb` lines (kb × 100 B ≈ kb kB) ten times a second, paced by the
 * clock (a late burst does not push the others back), by one process per job: a shell loop that
 * forks `seq` and `sleep` each tenth of a second cannot keep 100 jobs at rate on 2 cores.
 */
function loadScript(kbPerSecond: number, seconds: number): { script: string; expected: string } {
  const perBurst = kbPerSecond;
  const bursts = seconds * 10;
  const pad = '.'.repeat(90);
  const program = [
    'import sys, time',
    'out = sys.stdout',
    'deadline = time.monotonic()',
    `for burst in range(${bursts}):`,
    `    first = burst * ${perBurst} + 1`,
    `    out.write("".join("%08d ${pad}\\n" % n for n in range(first, first + ${perBurst})))`,
    '    out.flush()',
    '    deadline += 0.1',
    '    time.sleep(max(0, deadline - time.monotonic()))',
  ].join('\n');
  const script = `python3 -c '${program}'`;
  let expected = '';
  for (let n = 1; n <= bursts * perBurst; n++) expected += `${String(n).padStart(8, '0')} ${pad}\n`;
  return { script, expected };
}

/** The same generators run on the host with their pipes read by this process: time and intact count. */
async function rawLoad(
  script: string,
  expected: string,
  jobs: number,
): Promise<{ seconds: number; intact: number }> {
  const started = performance.now();
  const outputs = await Promise.all(
    Array.from(
      { length: jobs },
      () =>
        new Promise<string>((resolve) => {
          const child = spawn('/bin/sh', ['-c', script], { stdio: ['ignore', 'pipe', 'inherit'] });
          const chunks: Buffer[] = [];
          child.stdout.on('data', (chunk: Buffer) => chunks.push(chunk));
          child.once('close', () => resolve(Buffer.concat(chunks).toString('utf8')));
        }),
    ),
  );
  return {
    seconds: (performance.now() - started) / 1000,
    intact: outputs.filter((output) => output === expected).length,
  };
}

async function storedStdout(server: Server, jobId: string): Promise<string> {
  let text = '';
  let offset = 0;
  for (;;) {
    const page = await api<{
      events: { stream: string; chunk: string }[];
      nextOffset: number;
      complete: boolean;
    }>(server, `/api/jobs/${jobId}?from=${offset}&maxBytes=4194304`);
    text += page.events
      .filter((e) => e.stream === 'stdout')
      .map((e) => e.chunk)
      .join('');
    offset = page.nextOffset;
    if (page.complete) return text;
  }
}

async function load(server: Server, workspace: string): Promise<BenchResult[]> {
  const { jobs, kbPerSecond, seconds } = loadParams();
  const { script, expected } = loadScript(kbPerSecond, seconds);
  // Four viewers share the jobs, as several browser tabs would.
  const sockets = await Promise.all(Array.from({ length: 4 }, () => connect(server)));
  const received = new Map<string, { text: string[]; next: number; ordered: boolean }>();
  const finished = new Map<string, string>();
  let allDone!: () => void;
  const done = new Promise<void>((resolve) => {
    allDone = resolve;
  });
  for (const socket of sockets) {
    socket.on('job:log', (event: LogEvent) => {
      const r = received.get(event.jobId);
      if (!r) return;
      if (event.offset !== r.next) r.ordered = false;
      r.next = event.offset + Buffer.byteLength(event.chunk);
      if (event.stream === 'stdout') r.text.push(event.chunk);
    });
    socket.on('job:done', (event: { jobId: string; status: string }) => {
      finished.set(event.jobId, event.status);
      if (finished.size === jobs) allDone();
    });
  }
  const raw = await rawLoad(script, expected, jobs);
  const rssBefore = await medianRssKiB(server.child.pid!);
  const started = performance.now();
  const ids: string[] = [];
  for (let i = 0; i < jobs; i++) {
    const socket = sockets[i % sockets.length]!;
    const id = await execute(socket, { command: script, target: workspace });
    if (!received.has(id)) received.set(id, { text: [], next: 0, ordered: true });
    ids.push(id);
  }
  // The server's memory while every job streams.
  await new Promise((r) => setTimeout(r, Math.min(seconds * 500, 10_000)));
  const rssDuring = await medianRssKiB(server.child.pid!);
  await done;
  const elapsed = (performance.now() - started) / 1000;
  let liveIntact = 0;
  let storedIntact = 0;
  for (const id of ids) {
    const r = received.get(id)!;
    if (r.ordered && r.text.join('') === expected) liveIntact++;
    if ((await storedStdout(server, id)) === expected) storedIntact++;
  }
  for (const socket of sockets) socket.disconnect();
  const label = `${jobs} jobs × ${kbPerSecond} kB/s × ${seconds} s`;
  const mib = round((jobs * expected.length) / 1024 / 1024);
  return [
    withRatio({
      name: `jobs load ${label}: time until every job is done`,
      value: round(elapsed),
      unit: 's',
      baseline: round(raw.seconds),
      note: `${mib} MiB; ideal ${seconds} s; baseline: the same ${jobs} generators on the host, their pipes read directly (${raw.intact}/${jobs} intact)`,
    }),
    {
      name: `server RSS added per streaming job (${jobs} jobs at ${kbPerSecond} kB/s)`,
      value: round((rssDuring - rssBefore) / 1024 / jobs, 3),
      unit: 'MiB',
      note: 'goal ≤ 1 MiB; measured halfway through the load',
    },
    {
      name: `jobs load ${label}: intact live (no loss, no reorder)`,
      value: liveIntact,
      unit: 'jobs',
      baseline: jobs,
      ratio: round(liveIntact / jobs, 2),
      note: `${mib} MiB, every byte checked in order, across 4 viewers`,
    },
    {
      name: `jobs load ${label}: intact in the store`,
      value: storedIntact,
      unit: 'jobs',
      baseline: jobs,
      ratio: round(storedIntact / jobs, 2),
    },
  ];
}

/** RSS a bare Node process adds for `n` children whose pipes it reads. */
async function rawChildrenRssKiB(n: number): Promise<number> {
  const code = `
    const { spawn } = require('node:child_process');
    const { readFileSync } = require('node:fs');
    const rss = () => Number(/VmRSS:\\s+(\\d+)/.exec(readFileSync('/proc/self/status', 'utf8'))[1]);
    const before = rss();
    const children = [];
    for (let i = 0; i < ${n}; i++) {
      const c = spawn('/bin/bash', ['-c', 'echo ready; sleep 60'], { stdio: ['ignore', 'pipe', 'pipe'] });
      c.stdout.on('data', () => {});
      children.push(c);
    }
    setTimeout(() => { console.log(rss() - before); for (const c of children) c.kill('SIGKILL'); process.exit(0); }, 3000);
  `;
  const child = spawn(process.execPath, ['-e', code], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.on('data', (d: Buffer) => {
    out += d.toString();
  });
  await new Promise((resolve) => child.once('close', resolve));
  return Number(out.trim());
}

async function medianRssKiB(pid: number): Promise<number> {
  const samples: number[] = [];
  for (let i = 0; i < 5; i++) {
    samples.push(await rssKiB(pid));
    await new Promise((r) => setTimeout(r, 200));
  }
  return percentile(samples, 50);
}

async function startSleepers(socket: Socket, workspace: string, n: number): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < n; i++) {
    ids.push(await execute(socket, { command: 'echo ready; sleep 60', target: workspace }));
  }
  return ids;
}

async function memory(server: Server, workspace: string): Promise<BenchResult[]> {
  const socket = await connect(server);
  // A first round warms up the code paths and buffers every job uses, so the second measures jobs.
  for (const id of await startSleepers(socket, workspace, 50))
    await api(server, '/api/jobs/cancel', { jobId: id });
  await new Promise((r) => setTimeout(r, 2000));
  const before = await medianRssKiB(server.child.pid!);
  const ids = await startSleepers(socket, workspace, MEMORY_JOBS);
  await new Promise((r) => setTimeout(r, 2000));
  const during = await medianRssKiB(server.child.pid!);
  for (const id of ids) await api(server, '/api/jobs/cancel', { jobId: id });
  socket.disconnect();
  const raw = await rawChildrenRssKiB(MEMORY_JOBS);
  return [
    withRatio({
      name: `server RSS added per concurrent job (${MEMORY_JOBS} jobs)`,
      value: round((during - before) / 1024 / MEMORY_JOBS, 3),
      unit: 'MiB',
      baseline: round(Math.max(raw, 1) / 1024 / MEMORY_JOBS, 3),
      note: "brief: ≤ 10 MiB, goal ≤ 1 MiB; baseline: a bare Node process reading as many children's pipes",
    }),
  ];
}

export async function benchJobs(): Promise<BenchResult[]> {
  const gitServer = await startGitHttpServer();
  const dataDir = await mkdtemp(join(tmpdir(), 'nixspace-bench-jobs-'));
  const server = await startServer(dataDir);
  try {
    await makeRepo(gitServer.root, 'jobs.git', { files: { 'README.md': '# jobs\n' } });
    const { id: workspace } = await createToReady(server, gitServer.url('jobs.git'));
    const socket = await connect(server);
    const raw = await rawPipeLatencies();
    const job = await jobLatencies(server, socket, workspace);
    socket.disconnect();
    const results: BenchResult[] = [
      withRatio({
        name: 'job line latency, p50 (process → Socket.IO client)',
        value: round(percentile(job, 50), 2),
        unit: 'ms',
        baseline: round(percentile(raw, 50), 2),
        note: `${job.length} lines; baseline: the same process's pipe read directly`,
      }),
      withRatio({
        name: 'job line latency, p99',
        value: round(percentile(job, 99), 2),
        unit: 'ms',
        baseline: round(percentile(raw, 99), 2),
        note: 'brief: ≤ 1000 ms; goal: < 50 ms',
      }),
    ];
    results.push(...(await memory(server, workspace)));
    results.push(...(await load(server, workspace)));
    return results;
  } finally {
    await stopServer(server);
    await rm(dataDir, { recursive: true, force: true });
    await gitServer.close();
  }
}
