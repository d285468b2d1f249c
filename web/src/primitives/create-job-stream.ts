// Live job output over Socket.IO's `/jobs` namespace. `makeJobStream` is the plain connection;
// `createJobStream` ties it to the component's life. Output is kept as display lines per job;
// after a reconnect every followed job resumes from the last byte offset it received.

import { io, type Socket } from 'socket.io-client';
import { createSignal, onCleanup } from 'solid-js';
import { notifyUnauthenticated } from '../api/client';
import type { Job, JobDoneEvent, JobLogEvent, JobStream } from '../api/jobs';
import type { ErrorBody } from '../api/types';
import { backendBase } from '../lib/backend-url';

export interface LogLine {
  stream: JobStream;
  text: string;
  /** A piece of a line too long to show as one row. */
  continued?: boolean;
}

export interface JobOutput {
  lines: LogLine[];
  partial: Record<JobStream, string>;
  nextOffset: number;
  done: JobDoneEvent | undefined;
}

const ROW_CHARS = 2000;

export interface ExecuteInput {
  command: string;
  target: string;
  strategy?: 'stream' | 'terminal' | 'ssh';
  cwd?: string;
}

export interface JobStreamHandle {
  execute(input: ExecuteInput): Promise<Job>;
  follow(jobId: string): void;
  output(jobId: string): JobOutput | undefined;
  close(): void;
}

function emptyOutput(): JobOutput {
  return { lines: [], partial: { stdout: '', stderr: '', system: '' }, nextOffset: 0, done: undefined };
}

function pushLine(out: JobOutput, stream: JobStream, raw: string): void {
  // A carriage return redraws the line (progress bars): keep what was drawn last.
  const trimmed = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
  const text = trimmed.includes('\r') ? trimmed.slice(trimmed.lastIndexOf('\r') + 1) : trimmed;
  if (text.length <= ROW_CHARS) {
    out.lines.push({ stream, text });
    return;
  }
  for (let i = 0; i < text.length; i += ROW_CHARS) {
    out.lines.push({ stream, text: text.slice(i, i + ROW_CHARS), ...(i > 0 ? { continued: true } : {}) });
  }
}

export function appendChunk(out: JobOutput, event: Pick<JobLogEvent, 'stream' | 'chunk'>): void {
  const pieces = (out.partial[event.stream] + event.chunk).split('\n');
  out.partial[event.stream] = pieces.pop() ?? '';
  for (const piece of pieces) pushLine(out, event.stream, piece);
}

export function makeJobStream(options: {
  onChange(): void;
  onError(body: ErrorBody): void;
}): JobStreamHandle {
  const outputs = new Map<string, JobOutput>();
  const followed = new Set<string>();
  const socket: Socket = io(`${backendBase()}/jobs`, { withCredentials: true });

  socket.on('job:log', (event: JobLogEvent) => {
    const out = outputs.get(event.jobId);
    if (!out || event.offset < out.nextOffset) return;
    appendChunk(out, event);
    out.nextOffset = event.offset + new TextEncoder().encode(event.chunk).length;
    options.onChange();
  });
  socket.on('job:done', (event: JobDoneEvent) => {
    const out = outputs.get(event.jobId);
    if (!out) return;
    for (const stream of ['stdout', 'stderr', 'system'] as const) {
      if (out.partial[stream]) pushLine(out, stream, out.partial[stream]);
      out.partial[stream] = '';
    }
    out.done = event;
    options.onChange();
  });
  socket.on('connect', () => {
    // After a reconnect, pick every followed job up where it stopped.
    for (const jobId of followed) {
      if (!outputs.get(jobId)?.done) subscribe(jobId);
    }
  });
  socket.on('connect_error', (error: Error & { data?: ErrorBody }) => {
    if (error.data?.code === 'UNAUTHENTICATED') notifyUnauthenticated();
    if (error.data) options.onError(error.data);
  });

  const subscribe = (jobId: string) => {
    const from = outputs.get(jobId)?.nextOffset ?? 0;
    socket.emit('subscribe', { jobId, fromOffset: from }, (answer: { error?: ErrorBody }) => {
      if (answer?.error) options.onError(answer.error);
    });
  };

  return {
    async execute(input) {
      const answer = (await socket.timeout(60_000).emitWithAck('execute-command', input)) as {
        job?: Job;
        error?: ErrorBody;
      };
      if (answer.error || !answer.job) throw answer.error ?? { code: 'INTERNAL', message: 'No answer' };
      outputs.set(answer.job.id, emptyOutput());
      followed.add(answer.job.id);
      options.onChange();
      return answer.job;
    },
    follow(jobId) {
      if (!outputs.has(jobId)) outputs.set(jobId, emptyOutput());
      followed.add(jobId);
      if (socket.connected) subscribe(jobId);
      options.onChange();
    },
    output: (jobId) => outputs.get(jobId),
    close() {
      socket.disconnect();
    },
  };
}

/** The job stream for a component: `version()` changes (at most once a frame) when output arrives. */
export function createJobStream() {
  const [version, setVersion] = createSignal(0);
  const [error, setError] = createSignal<ErrorBody | null>(null);
  let frame = 0;
  const handle = makeJobStream({
    onChange() {
      if (frame) return;
      frame = window.requestAnimationFrame(() => {
        frame = 0;
        setVersion((v) => v + 1);
      });
    },
    onError: setError,
  });
  onCleanup(() => {
    if (frame) window.cancelAnimationFrame(frame);
    handle.close();
  });
  return { ...handle, version, error, clearError: () => setError(null) };
}
