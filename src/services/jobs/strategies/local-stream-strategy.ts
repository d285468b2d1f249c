// Non-interactive commands inside a workspace sandbox, over pipes: stdout and stderr stay apart.

import { spawn } from 'node:child_process';
import { NixSpaceError } from '../../../errors.js';
import { commandProcesses, ProcessTree, terminateTree } from '../../../runtime/host/process-tree.js';
import type { Sandbox } from '../../../runtime/sandbox.js';
import type {
  CommandExit,
  CommandSpec,
  ExecutionStrategy,
  OutputStream,
  RunningCommand,
} from './execution-strategy.js';
import { jobGroupName, releaseWhenDone } from './job-group.js';
import { resolveCwd } from './resolve-cwd.js';

export interface SandboxShell {
  sandbox: Sandbox;
  /** Default working directory (the repository) and the workspace's environment. */
  cwd: string;
  env: Record<string, string>;
}

/** How long a cancelled job's pipes may stay open after its process ended. */
const PIPE_DRAIN_MS = 300;

export class LocalStreamStrategy implements ExecutionStrategy {
  readonly type = 'stream' as const;
  readonly capabilities = { separateStderr: true, terminal: false };

  constructor(private readonly shell: () => SandboxShell) {}

  async start(
    spec: CommandSpec,
    onOutput: (stream: OutputStream, data: Buffer) => void,
  ): Promise<RunningCommand> {
    const shell = this.shell();
    const cwd = resolveCwd(shell.cwd, spec.cwd);
    const group = jobGroupName();
    const command = shell.sandbox.command(['/bin/bash', '-c', spec.command], {
      cwd,
      env: shell.env,
      group,
    });
    // Detached: the job leads its own process group, which is what cancel signals.
    const child = spawn(command.file, command.args, {
      cwd: command.cwd,
      env: command.env,
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    child.stdout.on('data', (data: Buffer) => onOutput('stdout', data));
    child.stderr.on('data', (data: Buffer) => onOutput('stderr', data));
    let exited: CommandExit | undefined;
    let cancelled = false;
    const closed = new Promise<CommandExit>((resolve) => {
      child.once('exit', (code, signal) => {
        exited = { exitCode: code, signal };
        // After a cancel's kills, a process outside the job's reach (no cgroup to find it by) may
        // still hold the pipes: the output that matters has arrived, so stop waiting for EOF.
        if (cancelled) setTimeout(() => destroyPipes(), PIPE_DRAIN_MS).unref();
      });
      child.once('close', (code, signal) => resolve(exited ?? { exitCode: code, signal }));
    });
    const destroyPipes = () => {
      child.stdout.destroy();
      child.stderr.destroy();
    };
    const cgroup = shell.sandbox.commandGroup(group);
    await new Promise<void>((resolve, reject) => {
      child.once('spawn', resolve);
      child.once('error', (error) => {
        // Nothing ran in the group made for it; an empty group that stays would be a leak.
        void cgroup?.release().catch(() => undefined);
        reject(new NixSpaceError('JOB_START_FAILED', `Cannot start the command: ${error.message}`));
      });
    });
    const pid = child.pid!;
    const processes = commandProcesses(new ProcessTree(pid), cgroup);
    const done = releaseWhenDone(closed, cgroup);
    const cancel = async (graceMs: number) => {
      // Spare the nsenter wrapper on SIGTERM: it reports how the program ended.
      const notes = await terminateTree(processes, { graceMs, exited: closed, spare: [pid] });
      cancelled = true;
      if (exited !== undefined) setTimeout(() => destroyPipes(), PIPE_DRAIN_MS).unref();
      return notes;
    };
    return { done, cancel };
  }
}
