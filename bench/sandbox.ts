// Figures for the unprivileged sandbox: starting one (minimal root, the workspace user, the seccomp
// filter) against raw `bwrap` with the same namespaces running `true`, and running a command in a
// running sandbox (nsenter, setpriv, unshare and the filter's installer) against a raw nsenter;
// then the same with the workspace agent as the first process, and a new server taking it back.

import { execFile, spawn } from 'node:child_process';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { runInAgent } from '../src/runtime/agent/agent-run.js';
import { BubblewrapDriver } from '../src/runtime/drivers/bubblewrap/bubblewrap-driver.js';
import { giveTree } from '../src/runtime/host/give-tree.js';
import type { SpawnCommand } from '../src/runtime/sandbox.js';
import { TEST_SANDBOX_USER } from '../src/runtime/test-sandbox-user.js';
import { type BenchResult, percentile, round, withRatio } from './results-file.js';

const RUNS = 20;
const exec = promisify(execFile);

function runToExit(command: SpawnCommand): Promise<number | null> {
  return new Promise((resolve, reject) => {
    const child = spawn(command.file, command.args, { env: command.env, cwd: command.cwd, stdio: 'ignore' });
    child.once('error', reject);
    child.once('exit', (code) => resolve(code));
  });
}

async function timed(fn: () => Promise<unknown>): Promise<number> {
  const started = performance.now();
  await fn();
  return performance.now() - started;
}

export async function benchSandbox(): Promise<BenchResult[]> {
  const root = await mkdtemp(join(tmpdir(), 'nixspace-bench-sandbox-'));
  const driver = new BubblewrapDriver();
  await driver.probe();
  const start: number[] = [];
  const rawStart: number[] = [];
  const command: number[] = [];
  const rawCommand: number[] = [];
  const agentStart: number[] = [];
  const agentCommand: number[] = [];
  const agentFirstCommand: number[] = [];
  const reattach: number[] = [];
  const rawBwrap = ['--ro-bind', '/', '/', '--dev', '/dev', '--proc', '/proc', '--tmpfs', '/tmp'];
  rawBwrap.push('--unshare-pid', '--unshare-ipc', '--unshare-uts', '--unshare-net', '--die-with-parent');
  try {
    // Alternate the two ways so neither gets a quieter machine.
    for (let i = 0; i < RUNS; i++) {
      const dir = join(root, `ws-${i}`);
      await mkdir(dir);
      await giveTree(dir, TEST_SANDBOX_USER);
      const spec = {
        id: `bench-sandbox-${process.pid}-${i}`,
        user: TEST_SANDBOX_USER,
        workspaceDir: dir,
        network: 'none' as const,
        limits: {},
      };
      let sandbox: Awaited<ReturnType<BubblewrapDriver['start']>> | undefined;
      start.push(
        await timed(async () => {
          sandbox = await driver.start(spec);
        }),
      );
      rawStart.push(await timed(() => exec('bwrap', [...rawBwrap, '--', 'true'])));
      if (sandbox === undefined) throw new Error('the sandbox did not start');
      const inside = sandbox;
      command.push(await timed(() => runToExit(inside.command(['true']))));
      const pid = String(inside.pid);
      rawCommand.push(
        await timed(() =>
          exec('nsenter', ['--target', pid, '--mount', '--pid', '--root', '--wd', '--', 'true']),
        ),
      );
      await inside.stop();

      // The same with the workspace agent as the first process, as workspaces run.
      const agentDir = join(root, `agent-${i}`);
      const agentSpec = { ...spec, id: `${spec.id}-agent`, agentDir };
      let withAgent: Awaited<ReturnType<BubblewrapDriver['start']>> | undefined;
      agentStart.push(
        await timed(async () => {
          withAgent = await driver.start(agentSpec);
        }),
      );
      if (withAgent?.agent === undefined) throw new Error('the agent did not connect');
      const link = withAgent.agent;
      // The agent greets before it has loaded its routes: the first command also waits for those.
      agentFirstCommand.push(await timed(() => runInAgent(link, ['/bin/true'])));
      agentCommand.push(await timed(() => runInAgent(link, ['/bin/true'])));
      // A new server process takes the sandbox back: it listens again, the agent dials and greets.
      await link.close({ removeSocket: false });
      let again: Awaited<ReturnType<BubblewrapDriver['attach']>>;
      reattach.push(
        await timed(async () => {
          again = await driver.attach(agentSpec);
          await again?.agent?.client?.list();
        }),
      );
      await again?.stop();
      await driver.cleanup(agentSpec.id, { agentDir });
    }
  } finally {
    await rm(root, { recursive: true, force: true });
  }
  const p50 = (values: number[]) => round(percentile(values, 50), 1);
  return [
    withRatio({
      name: 'sandbox: start until a command can join (p50)',
      value: p50(start),
      unit: 'ms',
      baseline: p50(rawStart),
      note: `baseline: raw bwrap with the same namespaces running true; p95 ${round(percentile(start, 95), 1)} ms; ${RUNS} runs`,
    }),
    withRatio({
      name: 'sandbox: a command in a running sandbox, to exit (p50)',
      value: p50(command),
      unit: 'ms',
      baseline: p50(rawCommand),
      note: 'as the workspace user under the seccomp filter; baseline: raw nsenter into it running true',
    }),
    withRatio({
      name: 'sandbox: start with the workspace agent until it has dialled in and greeted (p50)',
      value: p50(agentStart),
      unit: 'ms',
      baseline: p50(rawStart),
      note: `baseline: raw bwrap with the same namespaces running true; p95 ${round(percentile(agentStart, 95), 1)} ms`,
    }),
    withRatio({
      name: 'sandbox: a command through the agent, to exit with its output (p50)',
      value: p50(agentCommand),
      unit: 'ms',
      baseline: p50(rawCommand),
      note: 'one HTTP/2 request to spawn, output followed, exit; baseline: raw nsenter into it running true',
    }),
    {
      name: 'sandbox: the first command through a just-started agent (p50)',
      value: p50(agentFirstCommand),
      unit: 'ms',
      note: 'includes the agent loading its routes and schemas, which it does after greeting',
    },
    {
      name: 'sandbox: a restarted server takes a running sandbox back (listen until the agent greets and lists, p50)',
      value: p50(reattach),
      unit: 'ms',
      note: `the agent dials as soon as the socket is made again (inotify; else within its 1 s retry); p95 ${round(percentile(reattach, 95), 1)} ms`,
    },
  ];
}
