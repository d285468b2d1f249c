// Figures for branching and sharing: branching a running workspace until the branch runs, against
// copying the same files with `cp --reflink=auto` (what a branch copies underneath); and opening a
// share link until the first frame of terminal output, against the owner reattaching to the same
// terminal over the same WebSocket, in the same run.

import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import WebSocket from 'ws';
import { makeRepo } from '../test/support/git-fixtures.js';
import { type GitHttpServer, startGitHttpServer } from '../test/support/git-http-server.js';
import {
  openTerminal,
  startTestServer,
  type TestServer,
  waitForStatus,
} from '../test/support/nixspace-server.js';
import { type BenchResult, percentile, round, withRatio } from './results-file.js';

const exec = promisify(execFile);
const rounds = 10;

/** Milliseconds from opening a terminal socket with `cookie` to its first frame of output. */
function firstFrame(server: TestServer, id: string, cookie: string, terminal?: string): Promise<number> {
  const started = performance.now();
  const url = new URL(`${server.url.replace('http', 'ws')}/api/workspaces/${id}/terminal`);
  if (terminal) url.searchParams.set('terminal', terminal);
  const socket = new WebSocket(url, { headers: { cookie } });
  return new Promise((resolve, reject) => {
    socket.on('message', (_data, isBinary) => {
      if (!isBinary) return;
      resolve(performance.now() - started);
      socket.close();
    });
    socket.once('error', reject);
  });
}

async function benchBranch(server: TestServer, parentId: string): Promise<BenchResult> {
  const times: number[] = [];
  let steps = '';
  for (let i = 0; i < rounds / 2; i++) {
    const started = performance.now();
    const branched = await server.api<{ id: string }>(`/api/workspaces/${parentId}/branch`, {
      method: 'POST',
      body: { ref: 'main' },
    });
    const done = await waitForStatus(server, branched.body.id, ['running', 'failed'], 120_000);
    if (done.status !== 'running') throw new Error(`branch did not start: ${JSON.stringify(done)}`);
    times.push(performance.now() - started);
    steps = (done.steps as { name: string; durationMs: number | null }[])
      .map((s) => `${s.name} ${s.durationMs ?? '-'}`)
      .join(', ');
    await server.api(`/api/workspaces/${branched.body.id}`, { method: 'DELETE' });
  }
  const parentDir = server.nixspace.workspaces.workspaceDir(parentId);
  const scratch = await mkdtemp(join(tmpdir(), 'nixspace-bench-copy-'));
  const raw: number[] = [];
  try {
    for (let i = 0; i < rounds / 2; i++) {
      const started = performance.now();
      await exec('cp', ['-a', '--reflink=auto', parentDir, join(scratch, String(i))]);
      raw.push(performance.now() - started);
    }
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
  return withRatio({
    name: 'branch a workspace until the branch runs (p50)',
    value: round(percentile(times, 50)),
    unit: 'ms',
    baseline: round(percentile(raw, 50), 2),
    note: `brief: branch < 5 s; baseline: cp -a --reflink=auto of the parent's files; steps of the last branch (ms): ${steps}`,
  });
}

async function benchShareOpen(server: TestServer, id: string): Promise<BenchResult> {
  const owner = await openTerminal(server, id);
  owner.type('echo ready\r');
  await owner.waitFor((t) => t.output.includes('ready\r\n'));
  const terminalId = owner.messages.find((m) => m.type === 'hello')?.terminalId as string;
  const link = await server.api<{ token: string }>(`/api/workspaces/${id}/shares`, {
    method: 'POST',
    body: { role: 'viewer' },
  });
  const times: number[] = [];
  const raw: number[] = [];
  for (let i = 0; i < rounds; i++) {
    const started = performance.now();
    const visit = await fetch(`${server.url}/api/shares/visit`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ token: link.body.token }),
    });
    if (visit.status !== 200) throw new Error(`visit failed: ${visit.status} ${await visit.text()}`);
    const cookie = visit.headers
      .getSetCookie()
      .map((c) => c.split(';')[0]!)
      .join('; ');
    await firstFrame(server, id, cookie);
    times.push(performance.now() - started);
    // Each guest leaves before the next comes, so the limit of people never refuses one.
    await new Promise((resolve) => setTimeout(resolve, 20));
    raw.push(await firstFrame(server, id, server.cookie, terminalId));
  }
  owner.close();
  return withRatio({
    name: 'share link open to first frame of terminal output (p50)',
    value: round(percentile(times, 50), 2),
    unit: 'ms',
    baseline: round(percentile(raw, 50), 2),
    note: 'visit the link (token check, workspace token), then a viewer socket on the owner’s terminal; baseline: the owner reattaching to the same terminal',
  });
}

export async function benchSharing(): Promise<BenchResult[]> {
  const gitServer: GitHttpServer = await startGitHttpServer();
  const server = await startTestServer();
  try {
    const files: Record<string, string> = { 'package.json': '{"name":"app","version":"1.0.0"}' };
    for (let i = 0; i < 200; i++) files[`src/module-${i}.js`] = `export const value${i} = ${i};\n`.repeat(50);
    await makeRepo(gitServer.root, 'app.git', { files });
    const created = await server.api<{ id: string }>('/api/workspaces', {
      method: 'POST',
      body: { repoUrl: gitServer.url('app.git') },
    });
    const ready = await waitForStatus(server, created.body.id, ['running', 'failed'], 120_000);
    if (ready.status !== 'running') throw new Error(`workspace did not start: ${JSON.stringify(ready)}`);
    return [await benchBranch(server, created.body.id), await benchShareOpen(server, created.body.id)];
  } finally {
    await server.close();
    await gitServer.close();
  }
}
