// The output of one running job: ordered chunks at byte offsets (UTF-8, all streams in one
// sequence), handed to followers the moment they arrive and written to the store in batches.
// A batch is retried up to three times; after that an error event stands in for it. Past the size
// limit, the head and the tail are kept and the middle is cut, with system events saying so.

import { StringDecoder } from 'node:string_decoder';
import type { Logger } from 'pino';
import { deleteJobEventsBetween, insertJobEvents, readJobEvents } from '../../store/job-queries.js';
import type { Store } from '../../store/store.js';
import type { JobStream } from '../../wire/jobs.js';

export interface JobLogEvent {
  jobId: string;
  stream: JobStream;
  chunk: string;
  /** Milliseconds since the epoch. */
  ts: number;
  /** Byte offset of the chunk's first byte in the job's output. */
  offset: number;
  /** Bytes of the output it occupies: the chunk's UTF-8 length, or what an error event stands for. */
  bytes: number;
  /** A stand-in for output that could not be stored. */
  error?: boolean;
}

export interface JobLogLimits {
  /** Bytes kept from the start of the output. */
  headBytes: number;
  /** Bytes kept from the end of the output. */
  tailBytes: number;
}

const MAX_CHUNK_CHARS = 64 * 1024;
const FLUSH_BYTES = 256 * 1024;
const FLUSH_MS = 100;
const WRITE_ATTEMPTS = 3;

interface PendingEvent extends JobLogEvent {
  /** Coalesced with the next event of the same stream until it is written. */
  open: boolean;
}

export class JobLog {
  /** Offset the next byte will have. */
  end = 0;
  private readonly decoders = { stdout: new StringDecoder('utf8'), stderr: new StringDecoder('utf8') };
  private unflushed: PendingEvent[] = [];
  private unflushedBytes = 0;
  private inFlight: PendingEvent[] = [];
  private timer: NodeJS.Timeout | undefined;
  private writing: Promise<void> = Promise.resolve();
  private writable = false;
  private cutFrom: number | undefined;
  private deletedUpTo = 0;
  private readonly listeners = new Set<(event: JobLogEvent) => void>();

  constructor(
    readonly jobId: string,
    private readonly options: {
      store: Store;
      limits: JobLogLimits;
      logger: Logger;
      /** Test seam for the store's retry path is the database itself (a failing trigger). */
      retryDelayMs?: number;
      /**
       * Continues a log a previous server wrote up to this offset (a job that ran on through a
       * restart). Past the head, its middle counts as cut from the head on.
       */
      resumeAt?: number;
    },
  ) {
    const at = options.resumeAt ?? 0;
    this.end = at;
    if (at > options.limits.headBytes) {
      this.cutFrom = options.limits.headBytes;
      this.deletedUpTo = Math.max(options.limits.headBytes, at - options.limits.tailBytes);
    }
  }

  /** Bytes cut from the middle so far. */
  get cutBytes(): number {
    return this.cutFrom === undefined
      ? 0
      : Math.max(0, this.end - this.options.limits.tailBytes - this.cutFrom);
  }

  /** Bytes waiting in memory (not yet confirmed stored). */
  get bufferedBytes(): number {
    let n = this.unflushedBytes;
    for (const e of this.inFlight) n += e.bytes;
    return n;
  }

  onEvent(listener: (event: JobLogEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Called once the job's row exists: from now on events are written. */
  startWriting(): void {
    this.writable = true;
    this.schedule();
  }

  append(stream: 'stdout' | 'stderr', data: Buffer): void {
    const text = this.decoders[stream].write(data);
    if (text) this.push(stream, text);
  }

  /** A line from NixSpace itself; a character split across reads stays whole in its stream. */
  system(line: string): void {
    this.push('system', line.endsWith('\n') ? line : `${line}\n`);
  }

  /** Flushes partial characters and writes everything; resolves when the store has it all. */
  async finish(): Promise<void> {
    this.flushDecoders();
    const cut = this.cutBytes;
    if (cut > 0) {
      const from = this.cutFrom!;
      this.push(
        'system',
        `[output cut: ${formatBytes(cut)} from offset ${from} to ${from + cut} are not kept; the first ${formatBytes(this.options.limits.headBytes)} and the last ${formatBytes(this.options.limits.tailBytes)} are]\n`,
      );
    }
    await this.flush();
  }

  /**
   * Events covering offsets from `from` on, at most about `maxBytes`: what the store has, then what
   * is still in memory. The memory snapshot is taken first, so that nothing written meanwhile
   * falls between the two reads.
   */
  async readFrom(from: number, maxBytes: number): Promise<JobLogEvent[]> {
    const memory = [...this.inFlight, ...this.unflushed].map(({ open: _open, ...e }) => e);
    const memoryStart = memory[0]?.offset ?? this.end;
    const out: JobLogEvent[] = [];
    if (from < memoryStart) {
      const stored = await readStoredEvents(this.options.store, this.jobId, from, memoryStart, maxBytes);
      out.push(...stored.events);
      if (!stored.complete) return out;
    }
    let total = out.reduce((n, e) => n + e.bytes, 0);
    for (const event of memory) {
      if (event.offset + event.bytes <= from) continue;
      if (total >= maxBytes) break;
      out.push(sliceFrom(event, from));
      total += event.bytes;
    }
    return out;
  }

  private flushDecoders(): void {
    for (const stream of ['stdout', 'stderr'] as const) {
      const rest = this.decoders[stream].end();
      this.decoders[stream] = new StringDecoder('utf8');
      if (rest) this.push(stream, rest);
    }
  }

  private push(stream: JobStream, text: string): void {
    for (let i = 0; i < text.length; i += MAX_CHUNK_CHARS) {
      let end = Math.min(text.length, i + MAX_CHUNK_CHARS);
      // Never split a surrogate pair between two chunks.
      if (end < text.length && isHighSurrogate(text.charCodeAt(end - 1))) end--;
      const chunk = text.slice(i, end);
      if (end !== i + MAX_CHUNK_CHARS) i = end - MAX_CHUNK_CHARS;
      this.pushChunk(stream, chunk);
    }
  }

  private pushChunk(stream: JobStream, chunk: string): void {
    const bytes = Buffer.byteLength(chunk);
    const event: JobLogEvent = { jobId: this.jobId, stream, chunk, ts: Date.now(), offset: this.end, bytes };
    this.end += bytes;
    this.remember(event);
    for (const listener of this.listeners) listener(event);
    const { headBytes } = this.options.limits;
    if (this.cutFrom === undefined && this.end > headBytes && stream !== 'system') {
      this.cutFrom = -1;
      this.push(
        'system',
        `[output passed ${formatBytes(headBytes)}: the first ${formatBytes(headBytes)} and the last ${formatBytes(this.options.limits.tailBytes)} are kept, the middle is cut]\n`,
      );
      this.cutFrom = this.end;
      this.deletedUpTo = this.end;
    }
  }

  private remember(event: JobLogEvent): void {
    const last = this.unflushed.at(-1);
    // Coalesced chunks stay well under the tail, so that cutting the middle keeps a whole tail.
    const maxChunk = Math.min(FLUSH_BYTES, Math.floor(this.options.limits.tailBytes / 4));
    if (
      last?.open &&
      last.stream === event.stream &&
      last.bytes + event.bytes <= maxChunk &&
      event.stream !== 'system'
    ) {
      last.chunk += event.chunk;
      last.bytes += event.bytes;
    } else {
      if (last) last.open = false;
      this.unflushed.push({ ...event, open: event.stream !== 'system' });
    }
    this.unflushedBytes += event.bytes;
    if (this.unflushedBytes >= FLUSH_BYTES) void this.flush();
    else this.schedule();
  }

  private schedule(): void {
    if (this.timer || !this.writable || this.unflushed.length === 0) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.flush();
    }, FLUSH_MS);
  }

  /** Writes batches one after another, in offset order; resolves when everything so far is written. */
  flush(): Promise<void> {
    if (!this.writable) return this.writing;
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    this.writing = this.writing.then(() => this.writeBatch());
    return this.writing;
  }

  private async writeBatch(): Promise<void> {
    if (this.unflushed.length === 0) return;
    const batch = this.unflushed;
    for (const e of batch) e.open = false;
    this.unflushed = [];
    this.unflushedBytes = 0;
    this.inFlight = batch;
    const { store, logger } = this.options;
    let lastError: unknown;
    for (let attempt = 1; attempt <= WRITE_ATTEMPTS; attempt++) {
      try {
        await insertJobEvents(
          store.db,
          this.jobId,
          batch.map((e) => ({ ...e, ts: new Date(e.ts) })),
        );
        lastError = undefined;
        break;
      } catch (error) {
        lastError = error;
        logger.warn({ err: error, job: this.jobId, attempt }, 'could not store job output');
        await new Promise((r) => setTimeout(r, (this.options.retryDelayMs ?? 50) * attempt));
      }
    }
    if (lastError !== undefined) {
      const from = batch[0]!.offset;
      const last = batch.at(-1)!;
      const to = last.offset + last.bytes;
      await insertJobEvents(store.db, this.jobId, [
        {
          stream: 'system',
          chunk: `[${formatBytes(to - from)} of output (offsets ${from}–${to}) could not be stored after ${WRITE_ATTEMPTS} attempts: ${(lastError as Error).message}]\n`,
          offset: from,
          ts: new Date(batch[0]!.ts),
          error: true,
          covers: to - from,
        },
      ]).catch((error: unknown) =>
        logger.error({ err: error, job: this.jobId }, 'could not record lost job output'),
      );
    }
    this.inFlight = [];
    await this.dropCutEvents();
    this.schedule();
  }

  private async dropCutEvents(): Promise<void> {
    if (this.cutFrom === undefined || this.cutFrom < 0) return;
    const keepFrom = this.end - this.options.limits.tailBytes;
    // Delete in steps, not on every batch.
    if (
      keepFrom - this.deletedUpTo < this.options.limits.tailBytes / 4 &&
      keepFrom - this.deletedUpTo < FLUSH_BYTES * 4
    )
      return;
    await deleteJobEventsBetween(this.options.store.db, this.jobId, this.cutFrom, keepFrom).catch(
      (error: unknown) =>
        this.options.logger.warn({ err: error, job: this.jobId }, 'could not cut job output'),
    );
    this.deletedUpTo = keepFrom;
  }
}

/** Reads stored events from an offset, slicing the first so that it starts exactly there. */
export async function readStoredEvents(
  store: Store,
  jobId: string,
  from: number,
  before: number | undefined,
  maxBytes: number,
): Promise<{ events: JobLogEvent[]; complete: boolean }> {
  const limit = 256;
  const rows = await readJobEvents(store.db, jobId, {
    fromOffset: from,
    ...(before === undefined ? {} : { beforeOffset: before }),
    limit,
  });
  const events: JobLogEvent[] = [];
  let total = 0;
  for (const row of rows) {
    const event: JobLogEvent = {
      jobId,
      stream: row.stream,
      chunk: row.chunk,
      ts: row.ts.getTime(),
      offset: row.offset,
      bytes: row.bytes,
      ...(row.error ? { error: true } : {}),
    };
    events.push(sliceFrom(event, from));
    total += event.bytes;
    if (total >= maxBytes) return { events, complete: false };
  }
  return { events, complete: rows.length < limit };
}

function sliceFrom(event: JobLogEvent, from: number): JobLogEvent {
  if (event.offset >= from || event.error) return event;
  const rest = Buffer.from(event.chunk, 'utf8').subarray(from - event.offset);
  return { ...event, chunk: rest.toString('utf8'), offset: from, bytes: rest.length };
}

function isHighSurrogate(code: number): boolean {
  return code >= 0xd800 && code <= 0xdbff;
}

export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(bytes < 10 * 1024 ? 1 : 0)} KiB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
}
