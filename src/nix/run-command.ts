// Runs a program with an argv (never a shell), in its own process group so that an abort stops
// every helper it started (Nix forks builders and fetchers), keeping stdout and a bounded tail of
// stderr, and handing each stderr line to a listener for live build logs.

import { spawn } from 'node:child_process';

export interface RunOptions {
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  signal?: AbortSignal;
  onStderrLine?(line: string): void;
  /** Kill the command after this long. */
  timeoutMs?: number;
}

export interface RunResult {
  code: number;
  stdout: string;
  /** The last lines of stderr (at most `stderrTailLines`). */
  stderrTail: string[];
}

const stderrTailLines = 200;
const killGraceMs = 1000;

/** Rejects with the spawn error (ENOENT for a missing program) or the abort reason. */
export function runCommand(
  program: string,
  args: readonly string[],
  options: RunOptions = {},
): Promise<RunResult> {
  const { signal } = options;
  if (signal?.aborted) return Promise.reject(signal.reason);
  return new Promise<RunResult>((resolve, reject) => {
    const child = spawn(program, args, {
      cwd: options.cwd,
      env: options.env ?? process.env,
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    const stdout: Buffer[] = [];
    const tail: string[] = [];
    let partial = '';
    let failure: unknown;
    let killTimer: NodeJS.Timeout | undefined;
    const signalGroup = (sig: NodeJS.Signals): void => {
      if (child.pid === undefined) return;
      try {
        process.kill(-child.pid, sig);
      } catch {
        // Already gone.
      }
    };
    const kill = (reason: unknown): void => {
      if (failure !== undefined) return;
      failure = reason;
      signalGroup('SIGTERM');
      killTimer = setTimeout(() => signalGroup('SIGKILL'), killGraceMs);
    };
    const onAbort = (): void => kill(signal?.reason);
    signal?.addEventListener('abort', onAbort, { once: true });
    const timeout =
      options.timeoutMs === undefined
        ? undefined
        : setTimeout(
            () => kill(new Error(`${program} did not finish within ${options.timeoutMs} ms`)),
            options.timeoutMs,
          );
    const line = (text: string): void => {
      tail.push(text);
      if (tail.length > stderrTailLines) tail.shift();
      try {
        options.onStderrLine?.(text);
      } catch {
        // A failing listener must not break the run.
      }
    };

    child.stdout.on('data', (chunk: Buffer) => stdout.push(chunk));
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (chunk: string) => {
      const lines = (partial + chunk).split(/\r?\n|\r/);
      partial = lines.pop() ?? '';
      for (const l of lines) if (l.trim() !== '') line(l.trimEnd());
    });
    child.on('error', (error) => {
      failure ??= error;
    });
    child.on('close', (code) => {
      if (timeout !== undefined) clearTimeout(timeout);
      if (killTimer !== undefined) clearTimeout(killTimer);
      signal?.removeEventListener('abort', onAbort);
      if (partial.trim() !== '') line(partial.trimEnd());
      if (failure !== undefined) reject(failure);
      else resolve({ code: code ?? -1, stdout: Buffer.concat(stdout).toString('utf8'), stderrTail: tail });
    });
  });
}
