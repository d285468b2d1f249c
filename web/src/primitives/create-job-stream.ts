// Live job output over Socket.IO's `/jobs` namespace. `makeJobStream` is the plain connection;
// `createJobStream` ties it to the component's life. Output is kept as display lines per job;
// after a reconnect every followed job resumes from the last byte offset it received.

import {
  type ExecuteAck,
  type ExecuteCommandInput,
  JOB_EVENTS,
  type Job,
  type JobDoneEvent,
  type JobLogEvent,
  type SubscribeInput,
} from '@wire/jobs';
import { io, type Socket } from 'socket.io-client';
import { createSignal, onCleanup } from 'solid-js';
import { notifyUnauthenticated } from '../api/client';
import type { ErrorBody } from '../api/types';
import { backendBase } from '../lib/backend-url';
import { applyDone, applyLogEvent, emptyOutput, type JobOutput } from '../lib/job-output';

export interface JobStreamHandle {
  execute(input: ExecuteCommandInput): Promise<Job>;
  follow(jobId: string): void;
  output(jobId: string): JobOutput | undefined;
  close(): void;
}

export function makeJobStream(options: {
  onChange(): void;
  onError(body: ErrorBody): void;
}): JobStreamHandle {
  const outputs = new Map<string, JobOutput>();
  const followed = new Set<string>();
  const socket: Socket = io(`${backendBase()}/jobs`, { withCredentials: true });

  socket.on(JOB_EVENTS.log, (event: JobLogEvent) => {
    const out = outputs.get(event.jobId);
    if (out && applyLogEvent(out, event)) options.onChange();
  });
  socket.on(JOB_EVENTS.done, (event: JobDoneEvent) => {
    const out = outputs.get(event.jobId);
    if (!out) return;
    applyDone(out, event);
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
    const input: SubscribeInput = { jobId, fromOffset: outputs.get(jobId)?.nextOffset ?? 0 };
    socket.emit(JOB_EVENTS.subscribe, input, (answer: { error?: ErrorBody }) => {
      if (answer?.error) options.onError(answer.error);
    });
  };

  return {
    async execute(input) {
      const answer = (await socket.timeout(60_000).emitWithAck(JOB_EVENTS.execute, input)) as ExecuteAck;
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
