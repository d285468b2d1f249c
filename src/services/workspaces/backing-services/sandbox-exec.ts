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
}

const maxOutput = 64 * 1024;

export function execInSandbox(
  sandbox: Sandbox,
  argv: readonly string[],
  options: ExecOptions = {},
): Promise<ExecResult> {
  const { signal, timeoutMs = 60_000, ...commandOptions } = options;
  signal?.throwIfAborted();
  const command = sandbox.command(argv, commandOptions);
  return new Promise((resolve, reject) => {
    const child = spawn(command.file, command.args, {
      cwd: command.cwd,
      env: command.env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      if (stdout.length < maxOutput) stdout += chunk;
    });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      if (stderr.length < maxOutput) stderr += chunk;
    });
    // Killing the host-side wrapper SIGKILLs the program inside (see Sandbox.command).
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    const onAbort = () => child.kill('SIGKILL');
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
