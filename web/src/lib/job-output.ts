// A job's output as display lines, built from `job:log` and `job:done` events. Plain functions,
// so the job stream primitive stays a thin socket wrapper and this can be tested without a browser.

import { type JobDoneEvent, type JobLogEvent, type JobStream, offsetAfter } from '@wire/jobs';

export interface LogLine {
  stream: JobStream;
  text: string;
  /** A piece of a line too long to show as one row. */
  continued?: boolean;
}

export interface JobOutput {
  lines: LogLine[];
  partial: Record<JobStream, string>;
  /** Where the output received so far ends: the offset to resume from. */
  nextOffset: number;
  done: JobDoneEvent | undefined;
}

const ROW_CHARS = 2000;
const STREAMS = ['stdout', 'stderr', 'system'] as const;

export function emptyOutput(): JobOutput {
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

/**
 * Adds an event unless it lies before what was already received (a replay after a resubscribe).
 * An error event stands for `covers` bytes of lost output, so the output resumes after those.
 */
export function applyLogEvent(out: JobOutput, event: JobLogEvent): boolean {
  if (event.offset < out.nextOffset) return false;
  appendChunk(out, event);
  out.nextOffset = offsetAfter(event);
  return true;
}

/** Ends the job's output: unfinished lines are shown as they are. */
export function applyDone(out: JobOutput, event: JobDoneEvent): void {
  for (const stream of STREAMS) {
    if (out.partial[stream]) pushLine(out, stream, out.partial[stream]);
    out.partial[stream] = '';
  }
  out.done = event;
}
