// Figures for the command line: `nixspace up` until it prints the workspace's URL, against the
// same creation through the API (POST, then the events stream until it runs); and `nixspace list`
// against GET /api/workspaces. The CLI runs as a person runs it (bin/nixspace.js, a new process
// that signs in through the data directory's admin socket each time).

import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startGitHttpServer } from '../test/support/git-http-server.js';
import { type BenchResult, percentile, round, withRatio } from './results-file.js';
import { api, createToReady, makeSmallRepo, startServer, stopServer } from './spine.js';

const RUNS = 7;

/** Runs the CLI: the milliseconds until its stdout matches (then it may end), and its stdout. */
function timeCli(args: string[], until: RegExp): Promise<{ ms: number; out: string }> {
  const started = performance.now();
  const child = spawn(process.execPath, ['bin/nixspace.js', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  let seenAt: number | undefined;
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    out += chunk;
    if (seenAt === undefined && until.test(out)) seenAt = performance.now() - started;
  });
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
    err += chunk;
  });
  return new Promise((resolve, reject) => {
    child.once('exit', (code) => {
      if (code === 0 && seenAt !== undefined) resolve({ ms: seenAt, out });
      else reject(new Error(`nixspace ${args.join(' ')} exited ${code}:\n${out}${err}`));
    });
  });
}

export async function benchCli(): Promise<BenchResult[]> {
  await using git = await startGitHttpServer();
  const repoUrl = await makeSmallRepo(git);

  const dataDir = await mkdtemp(join(tmpdir(), 'nixspace-bench-cli-'));
  const server = await startServer(dataDir);
  try {
    // Warm the mirror, then alternate the two ways so neither gets a quieter machine.
    await createToReady(server, repoUrl);
    const viaApi: number[] = [];
    const viaCli: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      const byApi = await createToReady(server, repoUrl);
      viaApi.push(byApi.ms);
      const byCli = await timeCli(['up', repoUrl, '--data-dir', dataDir], /\/w\/[0-9a-f-]{36}\n/);
      viaCli.push(byCli.ms);
      // One workspace at a time, as in the spine's figures.
      for (const id of [byApi.id, /\/w\/([0-9a-f-]{36})/.exec(byCli.out)![1]!]) {
        await fetch(`${server.url}/api/workspaces/${id}`, {
          method: 'DELETE',
          headers: { cookie: server.cookie },
        });
      }
    }
    const apiMedian = round(percentile(viaApi, 50));
    const listApi: number[] = [];
    const listCli: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      const started = performance.now();
      await api(server, '/api/workspaces');
      listApi.push(performance.now() - started);
      listCli.push((await timeCli(['list', '--data-dir', dataDir], /^Workspaces on /m)).ms);
    }
    return [
      withRatio({
        name: 'nixspace up until the URL is printed (p50)',
        value: round(percentile(viaCli, 50)),
        unit: 'ms',
        baseline: apiMedian,
        note: `warm mirror, ${RUNS} runs, max ${round(Math.max(...viaCli))} ms; baseline: POST /api/workspaces + events stream until running`,
      }),
      withRatio({
        name: 'nixspace list (p50)',
        value: round(percentile(listCli, 50)),
        unit: 'ms',
        baseline: round(percentile(listApi, 50), 2),
        note: `${RUNS} runs; a new process: node start, admin-socket sign-in, sign-out; baseline: GET /api/workspaces`,
      }),
    ];
  } finally {
    await stopServer(server);
    await rm(dataDir, { recursive: true, force: true });
  }
}
