// The jobs contract: what `/api/jobs*` and the Socket.IO namespace `/jobs` send and take. The
// server, the UI (through the `@wire` alias) and the tests import it, so the three cannot drift.

import type { ErrorBody } from './errors.js';

export type JobStatus = 'running' | 'succeeded' | 'failed' | 'cancelled' | 'lost';
export type JobType = 'stream' | 'terminal' | 'ssh';
export type JobStream = 'stdout' | 'stderr' | 'system';

/** A job as every route and acknowledgement shows it. */
export interface Job {
  id: string;
  command: string;
  type: JobType;
  status: JobStatus;
  startedAt: string;
  finishedAt: string | null;
  exitCode: number | null;
  target: { kind: 'workspace' | 'ssh'; id: string | null; label: string };
  cwd: string | null;
  reason: string | null;
  outputBytes: number;
  cutBytes: number;
}

/** `job:log`, and each of the `events` of `GET /api/jobs/:id`. */
export interface JobLogEvent {
  jobId: string;
  stream: JobStream;
  chunk: string;
  /** ISO time the chunk was written. */
  ts: string;
  /** Byte offset (UTF-8, all streams together) of the chunk's first byte in the job's output. */
  offset: number;
  /** Set on a system line standing for output that could not be stored… */
  error?: boolean;
  /** …with how many bytes of output it stands for (its own text is not those bytes). */
  covers?: number;
}

/** `job:done`. */
export interface JobDoneEvent {
  jobId: string;
  status: JobStatus;
  exitCode: number | null;
}

/** `execute-command` over Socket.IO, or the body of `POST /api/jobs`. */
export interface ExecuteCommandInput {
  command: string;
  /** A workspace id or an SSH host id. */
  target: string;
  strategy?: JobType;
  /** Relative to the repository, or absolute. */
  cwd?: string;
}

/** `subscribe`: follow a job, resuming at a byte offset. */
export interface SubscribeInput {
  jobId: string;
  fromOffset?: number;
}

/** The acknowledgement of `execute-command`. */
export type ExecuteAck = { job: Job; error?: undefined } | { job?: undefined; error: ErrorBody };

/** `GET /api/jobs/:id?from=&maxBytes=`: a page of output from an offset. */
export interface JobPage {
  job: Job;
  events: JobLogEvent[];
  nextOffset: number;
  complete: boolean;
}

/** `GET /api/workspaces/:id/suggested-jobs`. */
export interface SuggestedJob {
  name: string;
  command: string;
  kind: 'make' | 'npm-script' | 'procfile';
}

/** `GET /api/ssh-hosts`: the private key never leaves the server. */
export interface SshHost {
  id: string;
  name: string;
  host: string;
  port: number;
  username: string;
  /** SHA256 fingerprint of the client key's public half, as ssh-keygen -l prints it. */
  keyFingerprint: string;
  knownHosts: string;
  createdAt: string;
}

/** Event names: what a client emits, and what the server sends back. */
export const JOB_EVENTS = {
  execute: 'execute-command',
  subscribe: 'subscribe',
  unsubscribe: 'unsubscribe',
  log: 'job:log',
  done: 'job:done',
  /** An error of a request sent without an acknowledgement callback. */
  error: 'job:error',
} as const;

const utf8 = new TextEncoder();

/** The offset right after an event: where the next one starts, and where to resume from. */
export function offsetAfter(event: Pick<JobLogEvent, 'offset' | 'chunk' | 'covers'>): number {
  return event.offset + (event.covers ?? utf8.encode(event.chunk).length);
}
