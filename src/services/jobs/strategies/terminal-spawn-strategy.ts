// Commands that want a terminal (colours, progress bars, prompts) inside a workspace sandbox: a
// PTY from node-pty. A terminal merges stderr into stdout.

import * as pty from 'node-pty';
import { NixSpaceError } from '../../../errors.js';
import { ProcessTree, terminateTree } from '../../../runtime/host/process-tree.js';
import type {
  CommandExit,
  CommandSpec,
  ExecutionStrategy,
  OutputStream,
  RunningCommand,
} from './execution-strategy.js';
import type { SandboxShell } from './local-stream-strategy.js';
import { resolveCwd } from './resolve-cwd.js';

const SIGNAL_NAMES: Record<number, string> = { 1: 'SIGHUP', 2: 'SIGINT', 9: 'SIGKILL', 15: 'SIGTERM' };

export class TerminalSpawnStrategy implements ExecutionStrategy {
  readonly type = 'terminal' as const;
  readonly capabilities = { separateStderr: false, terminal: true };

  constructor(
    private readonly shell: () => SandboxShell,
    private readonly size = { cols: 120, rows: 40 },
  ) {}

  async start(
    spec: CommandSpec,
    onOutput: (stream: OutputStream, data: Buffer) => void,
  ): Promise<RunningCommand> {
    const shell = this.shell();
    const cwd = resolveCwd(shell.cwd, spec.cwd);
    const command = shell.sandbox.command(['/bin/bash', '-c', spec.command], {
      cwd,
      env: { ...shell.env, TERM: 'xterm-256color', COLORTERM: 'truecolor' },
    });
    let child: pty.IPty;
    try {
      child = pty.spawn(command.file, command.args, {
        name: 'xterm-256color',
        cols: this.size.cols,
        rows: this.size.rows,
        cwd: command.cwd,
        env: command.env,
        encoding: null,
      });
    } catch (error) {
      throw new NixSpaceError('JOB_START_FAILED', `Cannot start the command: ${(error as Error).message}`);
    }
    child.onData((data) => onOutput('stdout', Buffer.isBuffer(data) ? data : Buffer.from(data, 'utf8')));
    const done = new Promise<CommandExit>((resolve) => {
      child.onExit(({ exitCode, signal }) => {
        // node-pty reports the exit as soon as the process is reaped; output already read by the
        // PTY may still be on its way, so hand it over first.
        setTimeout(
          () =>
            resolve(
              signal
                ? { exitCode: null, signal: SIGNAL_NAMES[signal] ?? `signal ${signal}` }
                : { exitCode, signal: null },
            ),
          20,
        );
      });
    });
    const tree = new ProcessTree(child.pid);
    return { done, cancel: (graceMs) => terminateTree(tree, { graceMs, exited: done, spare: [child.pid] }) };
  }
}
