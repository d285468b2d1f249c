// Runs the system git with an argv (never a shell), a clean environment, and the means to stop
// it: an AbortSignal, a hard time limit, a stall limit and a polled watch (used for size limits).
// git starts helpers (git-remote-http, index-pack, upload-pack), so it runs in its own process
// group and the whole group is killed; otherwise a helper could keep the network or pipes open.

import { spawn } from 'node:child_process';
import { NixSpaceError } from '../errors.js';

export interface RunGitOptions {
  cwd?: string;
  signal?: AbortSignal;
  /** Kill git when the whole run takes longer than this. */
  timeoutMs?: number;
  /** Kill git when it shows no sign of life (stderr output, or `watch` reporting progress) for this long. */
  stallTimeoutMs?: number;
  /** Each line git writes to stderr, split on \r and \n (progress meters redraw with \r). */
  onStderrLine?: (line: string) => void;
  /** Polled while git runs; a returned error kills git and becomes the rejection. */
  watch?: {
    intervalMs: number;
    check: (markAlive: () => void) => Promise<Error | undefined>;
  };
  env?: Record<string, string>;
}

export interface GitResult {
  code: number;
  stdout: string;
  /** stderr, minus progress-meter redraws, at most the last 64 kB. */
  stderr: string;
}

/** git was killed because it exceeded one of the time limits. */
export class GitTimeoutError extends Error {
  constructor(
    readonly limitMs: number,
    readonly kind: 'total' | 'stall',
  ) {
    super(`git ${kind === 'total' ? 'did not finish' : 'showed no progress'} within ${limitMs} ms`);
    this.name = 'GitTimeoutError';
  }
}

const stderrTailBytes = 64 * 1024;
const killGraceMs = 1000;

/**
 * Settings that keep git from asking anyone anything or reading host/user configuration, and
 * from following HTTP redirects: a repository's server could otherwise send git on to an address
 * the source policy refuses (a cloud metadata service), past the check made on the URL.
 */
const baseConfig = [
  '-c',
  'credential.helper=',
  '-c',
  'core.askPass=',
  '-c',
  'advice.detachedHead=false',
  '-c',
  'http.followRedirects=false',
];

export function gitEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  // Inherited GIT_* variables (GIT_DIR from a hook, GIT_TRACE, ...) would redirect or change git.
  for (const [name, value] of Object.entries(process.env)) if (!name.startsWith('GIT_')) env[name] = value;
  return {
    ...env,
    GIT_TERMINAL_PROMPT: '0',
    GIT_ASKPASS: '',
    SSH_ASKPASS: '',
    // Host and user config could add credential helpers, url rewrites or hooks; results must not
    // depend on whoever set up the machine.
    GIT_CONFIG_NOSYSTEM: '1',
    GIT_CONFIG_GLOBAL: '/dev/null',
    // Error classification matches git's English messages.
    LC_ALL: 'C',
    LANGUAGE: 'C',
    ...extra,
  };
}

export function runGit(args: readonly string[], options: RunGitOptions = {}): Promise<GitResult> {
  const { signal } = options;
  if (signal?.aborted) return Promise.reject(abortReason(signal));

  return new Promise<GitResult>((resolve, reject) => {
    const child = spawn('git', [...baseConfig, ...args], {
      cwd: options.cwd,
      env: gitEnv(options.env),
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });

    const stdout: Buffer[] = [];
    let stderr = '';
    let partial = '';
    let failure: unknown;
    let lastSign = Date.now();
    const timers: NodeJS.Timeout[] = [];
    let killTimer: NodeJS.Timeout | undefined;
    let polling = false;

    const markAlive = (): void => {
      lastSign = Date.now();
    };
    const kill = (reason: unknown): void => {
      if (failure !== undefined) return;
      failure = reason;
      signalGroup('SIGTERM');
      killTimer = setTimeout(() => signalGroup('SIGKILL'), killGraceMs);
    };
    const signalGroup = (sig: NodeJS.Signals): void => {
      if (child.pid === undefined) return;
      try {
        process.kill(-child.pid, sig);
      } catch {
        // Already gone.
      }
    };
    const onAbort = (): void => kill(abortReason(signal!));
    const notify = (line: string): void => {
      try {
        options.onStderrLine?.(line);
      } catch {
        // A failing progress listener must not crash the process from inside a stream handler.
      }
    };
    signal?.addEventListener('abort', onAbort, { once: true });

    if (options.timeoutMs !== undefined) {
      const limit = options.timeoutMs;
      timers.push(setTimeout(() => kill(new GitTimeoutError(limit, 'total')), limit));
    }
    if (options.stallTimeoutMs !== undefined) {
      const limit = options.stallTimeoutMs;
      timers.push(
        setInterval(
          () => {
            if (Date.now() - lastSign >= limit) kill(new GitTimeoutError(limit, 'stall'));
          },
          Math.min(250, limit),
        ),
      );
    }
    if (options.watch !== undefined) {
      const { check, intervalMs } = options.watch;
      timers.push(
        setInterval(() => {
          if (polling || failure !== undefined) return;
          polling = true;
          check(markAlive)
            .then((error) => {
              if (error !== undefined) kill(error);
            })
            .catch(() => {})
            .finally(() => {
              polling = false;
            });
        }, intervalMs),
      );
    }

    child.stdout.on('data', (chunk: Buffer) => {
      markAlive();
      stdout.push(chunk);
    });
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (chunk: string) => {
      markAlive();
      const text = partial + chunk;
      const lines = /([^\r\n]*)([\r\n])/g;
      let consumed = 0;
      for (let match = lines.exec(text); match !== null; match = lines.exec(text)) {
        consumed = lines.lastIndex;
        const line = (match[1] ?? '').trimEnd();
        if (line === '') continue;
        notify(line);
        // A line ended by \r is a progress meter about to redraw; only finished lines are kept
        // for error messages.
        if (match[2] === '\n') stderr = `${stderr}${line}\n`.slice(-stderrTailBytes);
      }
      partial = text.slice(consumed);
    });

    child.on('error', (error: NodeJS.ErrnoException) => {
      failure ??=
        error.code === 'ENOENT'
          ? new NixSpaceError('GIT_FAILED', 'git is not installed on this server (no `git` on PATH)', {
              cause: error,
            })
          : error;
    });
    child.on('close', (code) => {
      for (const timer of timers) clearInterval(timer);
      if (killTimer !== undefined) clearTimeout(killTimer);
      signal?.removeEventListener('abort', onAbort);
      const last = partial.trimEnd();
      if (last !== '') {
        notify(last);
        stderr = `${stderr}${last}\n`.slice(-stderrTailBytes);
      }
      if (failure !== undefined) reject(failure);
      else resolve({ code: code ?? -1, stdout: Buffer.concat(stdout).toString('utf8'), stderr });
    });
  });
}

function abortReason(signal: AbortSignal): unknown {
  return signal.reason ?? new DOMException('The operation was aborted', 'AbortError');
}
