// Runs a program through a workspace's agent to its end and collects what it printed: short
// commands whose output is wanted (a probe, a check, git on the checkout, a suite's case), and
// scripts whose lines are handed over as they come (installs). Past the time limit the program is
// killed and the run resolves `timedOut`, with what it printed so far; an abort kills it and
// rejects with the abort's reason.
import { randomUUID } from 'node:crypto';
import { StringDecoder } from 'node:string_decoder';
import type { AgentOutputStream } from '../../wire/agent.js';
import type { AgentLink } from './agent-link.js';
import { AgentProcess } from './agent-process.js';

export interface AgentRunOptions {
  cwd?: string;
  env?: Record<string, string>;
  /** Written to stdin, which is then closed. */
  input?: string;
  /** Kills the program after this long (default 30 s). */
  timeoutMs?: number;
  signal?: AbortSignal | undefined;
  /** Output kept beyond this many bytes per stream is cut (lines still reach `onLine`). */
  maxBytes?: number;
  /** Runs it in a group of its own (a child cgroup where the agent has them). */
  group?: string;
  /** Each whole line of stdout and stderr (UTF-8), as it comes. */
  onLine?: (line: string, stream: AgentOutputStream) => void;
}

export interface AgentRun {
  code: number | null;
  signal: string | null;
  stdout: string;
  stderr: string;
  /** Killed at the time limit. */
  timedOut: boolean;
}

export async function runInAgent(
  link: AgentLink,
  argv: readonly string[],
  options: AgentRunOptions = {},
): Promise<AgentRun> {
  const { signal, onLine } = options;
  signal?.throwIfAborted();
  const maxBytes = options.maxBytes ?? 4 << 20;
  const timeoutMs = options.timeoutMs ?? 30_000;
  const process = await AgentProcess.spawn(
    link,
    {
      id: `run-${randomUUID()}`,
      argv: [...argv],
      cwd: options.cwd ?? '/',
      env: options.env ?? { PATH: '/usr/bin:/bin' },
      stdin: options.input !== undefined,
      output: { mode: 'keep', bytes: Math.max(1 << 20, Math.min(maxBytes, 64 << 20)) },
      ...(options.group !== undefined ? { group: options.group } : {}),
    },
    signal,
  );
  const kept = { stdout: [] as Buffer[], stderr: [] as Buffer[] };
  const sizes = { stdout: 0, stderr: 0 };
  const follow = (stream: AgentOutputStream) => {
    const decoder = new StringDecoder('utf8');
    let partial = '';
    const following = process.follow(stream, 0, (data, offset) => {
      if (sizes[stream] < maxBytes) kept[stream].push(data.subarray(0, maxBytes - sizes[stream]));
      sizes[stream] += data.length;
      process.ack(stream, offset + data.length);
      if (onLine === undefined) return;
      const lines = (partial + decoder.write(data)).split('\n');
      partial = lines.pop() ?? '';
      for (const line of lines) onLine(line, stream);
    });
    return {
      ...following,
      done: following.done.then(() => {
        if (onLine !== undefined && partial + decoder.end() !== '') onLine(partial, stream);
      }),
    };
  };
  const streams = [follow('stdout'), follow('stderr')];
  let timer: NodeJS.Timeout | undefined;
  let onAbort: (() => void) | undefined;
  // Resolves `true` at the time limit; rejects on abort.
  const interrupted = new Promise<true>((resolve, reject) => {
    timer = setTimeout(() => resolve(true), timeoutMs);
    onAbort = () => reject(signal!.reason);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
  // Seen by the races below; an abort while stdin is written must not go unhandled meanwhile.
  interrupted.catch(() => undefined);
  try {
    if (options.input !== undefined) await process.writeAndEnd(options.input);
    const exit = await Promise.race([process.exited, interrupted]);
    if (exit !== true) await Promise.race([Promise.all(streams.map((s) => s.done)), interrupted]);
    const text = (stream: AgentOutputStream) => Buffer.concat(kept[stream]).toString('utf8');
    return exit === true
      ? { code: null, signal: 'SIGKILL', stdout: text('stdout'), stderr: text('stderr'), timedOut: true }
      : {
          code: exit.code,
          signal: exit.signal,
          stdout: text('stdout'),
          stderr: text('stderr'),
          timedOut: false,
        };
  } finally {
    clearTimeout(timer);
    if (onAbort) signal?.removeEventListener('abort', onAbort);
    for (const stream of streams) stream.stop();
    // Kills it (its whole group) if it still runs, and the agent lets its output go.
    await process.forget().catch(() => undefined);
  }
}
