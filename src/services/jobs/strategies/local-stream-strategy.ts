// Non-interactive commands inside a workspace sandbox, over pipes: stdout and stderr stay apart.

import { spawn } from 'node:child_process';
import { NixSpaceError } from '../../../errors.js';
import { ProcessTree, terminateTree } from '../../../runtime/host/process-tree.js';
import type { Sandbox } from '../../../runtime/sandbox.js';
import type {
  CommandExit,
  CommandSpec,
  ExecutionStrategy,
  OutputStream,
  RunningCommand,
} from './execution-strategy.js';
import { resolveCwd } from './resolve-cwd.js';

export interface SandboxShell {
  sandbox: Sandbox;
  /** Default working directory (the repository) and the workspace's environment. */
  cwd: string;
  env: Record<string, string>;
}

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
    const command = shell.sandbox.command(['/bin/bash', '-c', spec.command], { cwd, env: shell.env });
    // Detached: the job leads its own process group, which is what cancel signals.
    const child = spawn(command.file, command.args, {
      cwd: command.cwd,
      env: command.env,
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    child.stdout.on('data', (data: Buffer) => onOutput('stdout', data));
    child.stderr.on('data', (data: Buffer) => onOutput('stderr', data));
    const done = new Promise<CommandExit>((resolve) => {
      child.once('close', (code, signal) => resolve({ exitCode: code, signal }));
    });
    await new Promise<void>((resolve, reject) => {
      child.once('spawn', resolve);
      child.once('error', (error) =>
        reject(new NixSpaceError('JOB_START_FAILED', `Cannot start the command: ${error.message}`)),
      );
    });
    const pid = child.pid!;
    const tree = new ProcessTree(pid);
    // Spare the nsenter wrapper on SIGTERM: it reports how the program ended.
    return { done, cancel: (graceMs) => terminateTree(tree, { graceMs, exited: done, spare: [pid] }) };
  }
}
