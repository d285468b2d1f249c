// Runs a short command inside a workspace sandbox and collects its output: version probes,
// initialisation and readiness checks of backing services all run there, never on the host,
// because the binaries may come from the workspace (its activation PATH).
import { spawn } from 'node:child_process';
import type { CommandOptions, Sandbox } from '../../../runtime/sandbox.js';

export interface ExecResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface ExecOptions extends CommandOptions {
  signal?: AbortSignal;
  /** Kills the command after this long and resolves with code null (default 60 s). */
  timeoutMs?: number;
  /** Keeps at most about this much of each of stdout and stderr (default 64 KiB). */
  maxOutputBytes?: number;
}

export function execInSandbox(
  sandbox: Sandbox,
  argv: readonly string[],
  options: ExecOptions = {},
): Promise<ExecResult> {
  const { signal, timeoutMs = 60_000, maxOutputBytes: maxOutput = 64 * 1024, ...commandOptions } = options;
  signal?.throwIfAborted();
  const command = sandbox.command(argv, commandOptions);
  return new Promise((resolve, reject) => {
    // Its own process group: a stop reaches the programs the command started too (the wrapper
    // and everything it runs inside share the group), not only the program itself.
    const child = spawn(command.file, command.args, {
      cwd: command.cwd,
      env: command.env,
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      if (stdout.length < maxOutput) stdout += chunk;
    });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      if (stderr.length < maxOutput) stderr += chunk;
    });
    let killed = false;
    const kill = () => {
      killed = true;
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        child.kill('SIGKILL');
      }
    };
    // A killed command is done when its wrapper is: a program that left the group (setsid) may
    // still hold the output pipes, and is not waited for.
    child.once('exit', () => {
      if (!killed) return;
      child.stdout.destroy();
      child.stderr.destroy();
    });
    const timer = setTimeout(kill, timeoutMs);
    const onAbort = kill;
    signal?.addEventListener('abort', onAbort, { once: true });
    child.once('error', (error) => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      reject(error);
    });
    child.once('close', (code) => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      if (signal?.aborted) reject(signal.reason);
      else resolve({ code, stdout, stderr });
    });
  });
}
