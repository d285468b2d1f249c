// Figures for idle hibernation. On bubblewrap: a hibernated workspace (its processes stopped, its
// files kept) resumed by the page's request until it runs, and by opening a terminal until the
// shell answers, against a plain `bwrap true` in the same run. On gVisor, where it hibernates with
// its memory: the driver's save (the agent letting go, the checkpoint, runsc forgetting the box)
// and resume (restore until the agent is connected again), the image's size, and the workspace's
// resume by request and by reopening its shell, against raw `runsc checkpoint` and `runsc
// restore` of an agent box in the same run. The server runs as its own process with a short idle timeout, so the workspace
// hibernates again by itself between runs.

import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import WebSocket from 'ws';
import { bundleDir, bundleLogFile } from '../src/runtime/drivers/gvisor/box-bundle.js';
import { killBoxProcesses } from '../src/runtime/drivers/gvisor/box-leftovers.js';
import { GvisorDriver } from '../src/runtime/drivers/gvisor/gvisor-driver.js';
import { makeTestKit, skipReason, type TestKit } from '../src/runtime/drivers/gvisor/gvisor-test-kit.js';
import type { Sandbox } from '../src/runtime/sandbox.js';
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

/**
 * Opens a terminal on the workspace (shell `terminal` again, when given) and resolves with its
 * shell's id once the shell echoed back.
 */
/**
 * RUNS times: resume the hibernated workspace by request, then let it hibernate again and reopen
 * its terminal (`shell`: that very shell must come back). Times to running and to a shell answer.
 */
async function resumeRuns(
  server: Server,
  id: string,
  shell?: string,
): Promise<{ byRequest: number[]; byTerminal: number[] }> {
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
    const again = await terminalAnswers(server, id, shell);
    byTerminal.push(performance.now() - opened);
    if (shell !== undefined && again !== shell) {
      throw new Error(`the shell did not come back (${shell}, then ${again})`);
    }
  }
  return { byRequest, byTerminal };
}

async function terminalAnswers(server: Server, id: string, terminal?: string): Promise<string> {
  const url = new URL(`${server.url.replace('http', 'ws')}/api/workspaces/${id}/terminal`);
  if (terminal !== undefined) url.searchParams.set('terminal', terminal);
  const socket = new WebSocket(url, { headers: { cookie: server.cookie } });
  let output = '';
  let shell = '';
  await new Promise<void>((resolve, reject) => {
    socket.on('message', (data: Buffer, binary) => {
      if (!binary) {
        const message = JSON.parse(data.toString('utf8')) as { terminalId?: string };
        shell ||= message.terminalId ?? '';
        return;
      }
      output += data.toString('utf8');
      if (output.includes('RESUMED-42')) resolve();
    });
    socket.once('open', () => socket.send(Buffer.from('echo RESUMED-$((6*7))\r'), { binary: true }));
    socket.once('error', reject);
    socket.once('close', () => reject(new Error(`the terminal closed: ${output}`)));
  });
  socket.removeAllListeners('close');
  const closed = once(socket, 'close');
  socket.close();
  // Closed on the server's side too, before it can count the workspace idle.
  await closed;
  return shell;
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
    const { byRequest, byTerminal } = await resumeRuns(server, id);
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

const timed = async (fn: () => Promise<unknown>): Promise<number> => {
  const started = performance.now();
  await fn();
  return performance.now() - started;
};
const p50 = (values: number[]) => round(percentile(values, 50));

/**
 * The driver's hibernation of a box whose init is the real agent, each run next to raw `runsc
 * checkpoint` and `runsc restore --detach` of such a box (its agent let go of the host untimed,
 * as a checkpoint needs; the raw restore does not wait for the agent).
 */
async function hibernations(kit: TestKit) {
  const driver = new GvisorDriver({ stateDir: kit.boxes.stateDir });
  const raw = { checkpoint: [] as number[], restore: [] as number[] };
  const save: number[] = [];
  const resume: number[] = [];
  const bytes: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const { init: _raw, ...rawSpec } = await kit.spec([]);
    const box = await driver.start(rawSpec);
    await box.agent.detach();
    const image = join(kit.root, 'raw-images', rawSpec.id);
    await mkdir(image, { recursive: true, mode: 0o700 });
    raw.checkpoint.push(await timed(() => kit.boxes.runsc.checkpoint(rawSpec.id, image)));
    await kit.boxes.runsc.delete(rawSpec.id);
    const bundle = bundleDir(kit.boxes.stateDir, rawSpec.id);
    await killBoxProcesses(bundle, rawSpec.id);
    const flags = { network: rawSpec.network };
    raw.restore.push(
      await timed(() => kit.boxes.runsc.restore(rawSpec.id, bundle, flags, image, bundleLogFile(bundle))),
    );
    await driver.cleanup(rawSpec.id);

    const { init: _init, ...spec } = await kit.spec([]);
    const sandbox = await driver.start(spec);
    save.push(await timed(async () => bytes.push((await driver.memoryHibernation.hibernate(sandbox)).bytes)));
    let resumed: Sandbox | undefined;
    resume.push(
      await timed(async () => {
        resumed = await driver.memoryHibernation.resume(spec);
      }),
    );
    await resumed!.stop();
  }
  return { raw, save, resume, bytes };
}

/** Hibernation with memory: raw runsc, the driver, and a workspace on a server, in one run. */
export async function benchHibernateGvisor(): Promise<BenchResult[]> {
  if (skipReason) {
    console.error(`bench hibernate (gvisor) skipped: ${skipReason}`);
    return [];
  }
  const kit = await makeTestKit('bench-hibernate');
  let driver: Awaited<ReturnType<typeof hibernations>>;
  try {
    driver = await hibernations(kit);
  } finally {
    await kit.teardown();
  }
  const raw = driver.raw;
  const rawCheckpoint = p50(raw.checkpoint);
  const rawRestore = p50(raw.restore);

  await using git = await startGitHttpServer();
  const repoUrl = await makeSmallRepo(git);
  const dataDir = await mkdtemp(join(tmpdir(), 'nixspace-bench-hibernate-gvisor-'));
  const server = await startServer(dataDir, ['--sandbox', 'gvisor', '--hibernate-after', '1s', '--no-ide']);
  const byRequest: number[] = [];
  const byTerminal: number[] = [];
  try {
    const { id } = await createToReady(server, repoUrl);
    const shell = await terminalAnswers(server, id);
    const runs = await resumeRuns(server, id, shell);
    byRequest.push(...runs.byRequest);
    byTerminal.push(...runs.byTerminal);
  } finally {
    await stopServer(server);
    await rm(dataDir, { recursive: true, force: true });
  }
  const note = `${RUNS} runs; ptrace platform`;
  return [
    withRatio({
      name: 'hibernate with memory (gvisor driver): agent lets go, checkpoint, box forgotten (p50)',
      value: p50(driver.save),
      unit: 'ms',
      baseline: rawCheckpoint,
      note: `baseline: raw runsc checkpoint of an agent box; ${note}; max ${round(Math.max(...driver.save))} ms`,
    }),
    withRatio({
      name: 'resume with memory (gvisor driver): restore until the agent is connected (p50)',
      value: p50(driver.resume),
      unit: 'ms',
      baseline: rawRestore,
      note: `baseline: raw runsc restore --detach of an agent box; ${note}; max ${round(Math.max(...driver.resume))} ms`,
    }),
    {
      name: 'hibernate with memory (gvisor driver): image of an agent box (p50)',
      value: round(percentile(driver.bytes, 50) / 1024 / 1024),
      unit: 'MiB',
      note: 'the agent (Node) and nothing else running',
    },
    withRatio({
      name: 'resume from hibernate (gvisor, with memory), request to running (p50)',
      value: p50(byRequest),
      unit: 'ms',
      baseline: rawRestore,
      note: `goal < 300 ms; baseline: raw runsc restore; ${note}; max ${round(Math.max(...byRequest))} ms; no IDE`,
    }),
    withRatio({
      name: 'resume from hibernate (gvisor, with memory), reopening the shell to its answer (p50)',
      value: p50(byTerminal),
      unit: 'ms',
      baseline: rawRestore,
      note: `the same shell, its scrollback replayed; baseline: raw runsc restore; ${note}; max ${round(Math.max(...byTerminal))} ms`,
    }),
  ];
}
