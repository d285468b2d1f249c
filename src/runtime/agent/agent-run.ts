// Runs a program through a workspace's agent to completion and collects what it printed: short
// commands whose whole output is wanted (a probe, a check, a suite's case). Past the time limit the
// program is killed and the run fails with what it printed so far.
import { randomUUID } from 'node:crypto';
import { NixSpaceError } from '../../errors.js';
import type { CollectedRun } from '../host/collect-run.js';
import type { AgentLink } from './agent-link.js';
import { AgentProcess } from './agent-process.js';

export interface AgentRunOptions {
  cwd?: string;
  env?: Record<string, string>;
  /** Written to stdin, which is then closed. */
  input?: string;
  timeoutMs?: number;
  /** Output kept beyond this many bytes per stream is cut. */
  maxBytes?: number;
}

export async function runInAgent(
  link: AgentLink,
  argv: readonly string[],
  options: AgentRunOptions = {},
): Promise<CollectedRun> {
  const maxBytes = options.maxBytes ?? 4 << 20;
  const process = await AgentProcess.spawn(link, {
    id: `run-${randomUUID()}`,
    argv: [...argv],
    cwd: options.cwd ?? '/',
    env: options.env ?? { PATH: '/usr/bin:/bin' },
    stdin: options.input !== undefined,
    output: { mode: 'keep', bytes: Math.max(1 << 20, Math.min(maxBytes, 64 << 20)) },
  });
  const kept = { stdout: [] as Buffer[], stderr: [] as Buffer[] };
  const sizes = { stdout: 0, stderr: 0 };
  const text = {
    get stdout() {
      return Buffer.concat(kept.stdout).toString('utf8');
    },
    get stderr() {
      return Buffer.concat(kept.stderr).toString('utf8');
    },
  };
  const follow = (stream: 'stdout' | 'stderr') =>
    process.follow(stream, 0, (data, offset) => {
      if (sizes[stream] < maxBytes) kept[stream].push(data);
      sizes[stream] += data.length;
      process.ack(stream, offset + data.length);
    });
  const streams = [follow('stdout'), follow('stderr')];
  if (options.input !== undefined) await process.writeAndEnd(options.input);
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      void process.forget().catch(() => undefined);
      reject(
        new NixSpaceError(
          'SANDBOX_FAILED',
          `${argv[0]} did not finish within ${options.timeoutMs ?? 30_000} ms`,
          {
            detail: `stdout: ${text.stdout.slice(-2000)}\nstderr: ${text.stderr.slice(-2000)}`,
          },
        ),
      );
    }, options.timeoutMs ?? 30_000);
  });
  try {
    const exit = await Promise.race([process.exited, timedOut]);
    await Promise.race([Promise.all(streams.map((s) => s.done)), timedOut]);
    return {
      code: exit.code,
      signal: exit.signal as NodeJS.Signals | null,
      stdout: text.stdout,
      stderr: text.stderr,
    };
  } finally {
    clearTimeout(timer);
    for (const stream of streams) stream.stop();
    await process.forget().catch(() => undefined);
  }
}
