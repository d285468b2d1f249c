// A Socket.IO client of the `/jobs` namespace, as a program would use it: collects `job:log` and
// `job:done` per job, and checks that offsets follow each other with no gap and no duplicate.

import { io, type Socket } from 'socket.io-client';
import {
  type ExecuteAck,
  type ExecuteCommandInput,
  JOB_EVENTS,
  type JobDoneEvent,
  type JobLogEvent,
  offsetAfter,
} from '../../src/wire/jobs.js';
import type { TestServer } from './nixspace-server.js';

export type LogEvent = JobLogEvent;
export type DoneEvent = JobDoneEvent;

export class JobsClient {
  readonly logs = new Map<string, LogEvent[]>();
  readonly done = new Map<string, DoneEvent>();
  private waiters: (() => void)[] = [];

  constructor(readonly socket: Socket) {
    socket.on(JOB_EVENTS.log, (event: LogEvent) => {
      const list = this.logs.get(event.jobId) ?? [];
      list.push(event);
      this.logs.set(event.jobId, list);
      this.notify();
    });
    socket.on(JOB_EVENTS.done, (event: DoneEvent) => {
      this.done.set(event.jobId, event);
      this.notify();
    });
  }

  /** Emits and resolves with the acknowledgement. */
  request<T = Record<string, unknown>>(event: string, payload: unknown): Promise<T> {
    return this.socket.timeout(30_000).emitWithAck(event, payload) as Promise<T>;
  }

  /** `execute-command`; the payload may be malformed on purpose, to test the refusals. */
  async execute(payload: ExecuteCommandInput | Record<string, unknown>): Promise<ExecuteAck> {
    return this.request(JOB_EVENTS.execute, payload);
  }

  /** Output of a job as received, by stream (all streams when none is given). */
  text(jobId: string, streams: LogEvent['stream'][] = ['stdout', 'stderr', 'system']): string {
    return (this.logs.get(jobId) ?? [])
      .filter((e) => streams.includes(e.stream))
      .map((e) => e.chunk)
      .join('');
  }

  /** Throws unless each event starts exactly where the previous one ended. */
  assertContiguous(jobId: string, from = 0): number {
    let next = from;
    for (const event of this.logs.get(jobId) ?? []) {
      if (event.offset !== next)
        throw new Error(`job ${jobId}: event at offset ${event.offset}, expected ${next}`);
      next = offsetAfter(event);
    }
    return next;
  }

  async waitFor(predicate: () => boolean, timeoutMs = 30_000, what = 'condition'): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!predicate()) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 200);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  waitForDone(jobId: string, timeoutMs = 30_000): Promise<DoneEvent> {
    return this.waitFor(() => this.done.has(jobId), timeoutMs, `job ${jobId} to finish`).then(
      () => this.done.get(jobId)!,
    );
  }

  close(): void {
    this.socket.disconnect();
  }

  private notify(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const wake of waiters) wake();
  }
}

/** Connects to the server's `/jobs` namespace with the owner's session (or the given cookie). */
export async function connectJobs(
  server: TestServer,
  options: { cookie?: string | null; origin?: string } = {},
): Promise<JobsClient> {
  const cookie = options.cookie === undefined ? server.cookie : options.cookie;
  const socket = io(`${server.url}/jobs`, {
    transports: ['websocket'],
    reconnection: false,
    extraHeaders: { ...(cookie ? { cookie } : {}), ...(options.origin ? { origin: options.origin } : {}) },
  });
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', () => resolve());
    socket.once('connect_error', (error: Error & { data?: unknown }) => {
      socket.disconnect();
      reject(Object.assign(error, { body: error.data }));
    });
  });
  return new JobsClient(socket);
}
