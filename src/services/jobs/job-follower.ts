// One viewer of one job's output. Live events go straight to it while its transport keeps up;
// when its send buffer passes the limit it is paused, and once drained it is caught up from the
// log (store, then memory) before going live again. A slow viewer never slows the job or others.

import type { JobDoneEvent } from '../../wire/jobs.js';
import type { JobLogEvent } from './job-log.js';

export type JobDone = JobDoneEvent;

export interface FollowerSink {
  send(event: JobLogEvent): void;
  done(done: JobDone): void;
  /** Bytes queued in the transport, not yet written to the network. */
  buffered(): number;
}

export interface FollowSource {
  /** Offset the next byte of output will have. */
  end(): number;
  readFrom(from: number, maxBytes: number): Promise<JobLogEvent[]>;
  /** Set once the job has ended (and all its output is readable). */
  finished(): JobDone | undefined;
  subscribe(onEvent: (event: JobLogEvent) => void, onDone: (done: JobDone) => void): () => void;
}

export const PAUSE_ABOVE_BYTES = 1024 * 1024;
const CATCH_UP_BYTES = 256 * 1024;
const DRAIN_POLL_MS = 10;

export class JobFollower {
  private next: number;
  private mode: 'catching-up' | 'live' | 'paused' = 'catching-up';
  private closed = false;
  private doneSent = false;
  private readonly unsubscribe: () => void;
  /** How many times this viewer was paused for a full buffer. */
  pauses = 0;

  constructor(
    private readonly source: FollowSource,
    private readonly sink: FollowerSink,
    from: number,
  ) {
    this.next = Math.max(0, from);
    this.unsubscribe = source.subscribe(
      (event) => this.onEvent(event),
      (done) => this.onDone(done),
    );
    void this.catchUp();
  }

  close(): void {
    this.closed = true;
    this.unsubscribe();
  }

  private onEvent(event: JobLogEvent): void {
    if (this.closed || this.mode !== 'live') return;
    if (event.offset + event.bytes <= this.next) return;
    if (this.sink.buffered() > PAUSE_ABOVE_BYTES) {
      this.mode = 'paused';
      this.pauses++;
      void this.drainThenCatchUp();
      return;
    }
    this.deliver(event);
  }

  private onDone(done: JobDone): void {
    if (this.closed || this.mode !== 'live') return;
    this.sendDone(done);
  }

  private deliver(event: JobLogEvent): void {
    this.sink.send(event);
    this.next = Math.max(this.next, event.offset + event.bytes);
  }

  private sendDone(done: JobDone): void {
    if (this.doneSent) return;
    this.doneSent = true;
    this.sink.done(done);
  }

  private async drainThenCatchUp(): Promise<void> {
    while (!this.closed && this.sink.buffered() > PAUSE_ABOVE_BYTES / 4) {
      await new Promise((r) => setTimeout(r, DRAIN_POLL_MS));
    }
    await this.catchUp();
  }

  private async catchUp(): Promise<void> {
    this.mode = 'catching-up';
    while (!this.closed) {
      const events = await this.source.readFrom(this.next, CATCH_UP_BYTES);
      if (this.closed) return;
      for (const event of events) {
        if (event.offset + event.bytes > this.next) this.deliver(event);
      }
      // Synchronously from here to `live`: no event can arrive in between.
      if (events.length === 0 || this.next >= this.source.end()) {
        this.mode = 'live';
        const finished = this.source.finished();
        if (finished) this.sendDone(finished);
        return;
      }
      if (this.sink.buffered() > PAUSE_ABOVE_BYTES) {
        this.mode = 'paused';
        this.pauses++;
        while (!this.closed && this.sink.buffered() > PAUSE_ABOVE_BYTES / 4) {
          await new Promise((r) => setTimeout(r, DRAIN_POLL_MS));
        }
        this.mode = 'catching-up';
      }
    }
  }
}
