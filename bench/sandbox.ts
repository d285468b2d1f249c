// Figures for the unprivileged sandbox, whose first process is the workspace agent: starting one
// (minimal root, the workspace user, the seccomp filter, the agent dialling in and greeting)
// against raw `bwrap` with the same namespaces running `true`; a command through the agent (one
// HTTP/2 request to spawn, its output followed, its exit) against the raw operation underneath, an
// nsenter into the sandbox's namespaces running `true`; and a new server taking a running sandbox
// back.

import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { BubblewrapDriver } from '../src/runtime/drivers/bubblewrap/bubblewrap-driver.js';
import { giveTree } from '../src/runtime/host/give-tree.js';
import type { Sandbox, SandboxSpec } from '../src/runtime/sandbox.js';
import { execInSandbox } from '../src/runtime/sandbox-exec.js';
import { TEST_SANDBOX_USER } from '../src/runtime/test-sandbox-user.js';
import { type BenchResult, percentile, round, withRatio } from './results-file.js';

const exec = promisify(execFile);

async function timed(fn: () => Promise<unknown>): Promise<number> {
  const started = performance.now();
  await fn();
  return performance.now() - started;
}

/** Runs `true` through the agent; fails the bench if it did not run. */
async function agentTrue(sandbox: Sandbox): Promise<void> {
  const run = await execInSandbox(sandbox, ['/bin/true'], { timeoutMs: 10_000 });
  if (run.code !== 0) throw new Error(`true through the agent: ${run.code ?? run.signal} ${run.stderr}`);
}

export async function benchSandbox(runs = 20): Promise<BenchResult[]> {
  const root = await mkdtemp(join(tmpdir(), 'nixspace-bench-sandbox-'));
  const driver = new BubblewrapDriver();
  await driver.probe();
  const start: number[] = [];
  const rawStart: number[] = [];
  const command: number[] = [];
  const firstCommand: number[] = [];
  const rawCommand: number[] = [];
  const reattach: number[] = [];
  const rawBwrap = ['--ro-bind', '/', '/', '--dev', '/dev', '--proc', '/proc', '--tmpfs', '/tmp'];
  rawBwrap.push('--unshare-pid', '--unshare-ipc', '--unshare-uts', '--unshare-net', '--die-with-parent');
  try {
    // Alternate the two ways so neither gets a quieter machine.
    for (let i = 0; i < runs; i++) {
      const dir = join(root, `ws-${i}`);
      await mkdir(dir);
      await giveTree(dir, TEST_SANDBOX_USER);
      const id = `bench-sandbox-${process.pid}-${i}`;
      const spec: SandboxSpec = {
        id,
        user: TEST_SANDBOX_USER,
        workspaceDir: dir,
        agentDir: join(root, 'agents', id),
        network: 'none',
        limits: {},
      };
      let started: Sandbox | undefined;
      start.push(
        await timed(async () => {
          started = await driver.start(spec);
        }),
      );
      rawStart.push(await timed(() => exec('bwrap', [...rawBwrap, '--', 'true'])));
      if (started === undefined) throw new Error('the sandbox did not start');
      const sandbox = started;
      try {
        // The agent greets before it has loaded its routes: the first command also waits for those.
        firstCommand.push(await timed(() => agentTrue(sandbox)));
        command.push(await timed(() => agentTrue(sandbox)));
        // Underneath: a process made in the sandbox's namespaces (the ones its init, bwrap's
        // reaper, holds), with no agent, user namespace or filter on the way.
        const pid = String(sandbox.pid);
        rawCommand.push(
          await timed(() =>
            exec('nsenter', ['--target', pid, '--mount', '--pid', '--root', '--wd', '--', 'true']),
          ),
        );
        // A new server process takes the sandbox back: it listens again, the agent dials and greets.
        await sandbox.agent.close({ removeSocket: false });
        let again: Sandbox | undefined;
        reattach.push(
          await timed(async () => {
            again = await driver.attach(spec);
            await again?.agent.client?.list();
          }),
        );
        if (again === undefined) throw new Error('the sandbox was not taken back');
        await again.stop();
      } finally {
        await driver.cleanup(id, { agentDir: spec.agentDir });
      }
    }
  } finally {
    await rm(root, { recursive: true, force: true });
  }
  const p50 = (values: number[]) => round(percentile(values, 50), 1);
  const p95 = (values: number[]) => round(percentile(values, 95), 1);
  return [
    withRatio({
      name: 'sandbox: start until its agent has dialled in and greeted (p50)',
      value: p50(start),
      unit: 'ms',
      baseline: p50(rawStart),
      note: `baseline: raw bwrap with the same namespaces running true; p95 ${p95(start)} ms; ${runs} runs`,
    }),
    withRatio({
      name: 'sandbox: a command through the agent, to exit with its output (p50)',
      value: p50(command),
      unit: 'ms',
      baseline: p50(rawCommand),
      note: `as the workspace user under the seccomp filter; baseline: raw nsenter into the sandbox's namespaces running true; p95 ${p95(command)} ms`,
    }),
    withRatio({
      name: 'sandbox: the first command through a just-started agent (p50)',
      value: p50(firstCommand),
      unit: 'ms',
      baseline: p50(rawCommand),
      note: 'includes the agent loading its routes and schemas, which it does after greeting; baseline: raw nsenter',
    }),
    {
      name: 'sandbox: a restarted server takes a running sandbox back (listen until the agent greets and lists, p50)',
      value: p50(reattach),
      unit: 'ms',
      note: `the agent dials as soon as the socket is made again (inotify; else within its 1 s retry); p95 ${p95(reattach)} ms`,
    },
  ];
}
