// One output stream of a process the agent runs, addressed by byte offset from its first byte, so
// a reader that went away (the server restarting) asks again from where it stopped: nothing twice,
// and no gap unless the buffer says where it dropped bytes.
//
// `ring` keeps the newest bytes (a terminal's scrollback). `keep` drops nothing the reader has not
// acknowledged; past its capacity it asks the writer to wait (the process blocks on its pipe).
import { EventEmitter } from 'node:events';

export type OutputMode = 'ring' | 'keep';

export class OutputBuffer {
  #chunks: Buffer[] = [];
  #start = 0;
  #end = 0;
  #closed = false;
  readonly #events = new EventEmitter();

  constructor(
    readonly mode: OutputMode,
    readonly capacity: number,
  ) {
    this.#events.setMaxListeners(0);
  }

  /** Offset of the oldest byte kept. */
  get start(): number {
    return this.#start;
  }

  /** Offset after the newest byte. */
  get end(): number {
    return this.#end;
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** True while `keep` holds more than its capacity: the writer should wait for `drain`. */
  get full(): boolean {
    return this.mode === 'keep' && this.#end - this.#start >= this.capacity;
  }

  /** Adds bytes; returns false when the writer should pause until `onDrain`. */
  append(data: Buffer): boolean {
    if (this.#closed || data.length === 0) return !this.full;
    this.#chunks.push(data);
    this.#end += data.length;
    if (this.mode === 'ring') this.#trim(this.#end - this.capacity);
    this.#events.emit('data');
    return !this.full;
  }

  /** No byte comes after the current end. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#events.emit('data');
  }

  /** The reader has what comes before `offset`: `keep` may drop it. */
  ack(offset: number): void {
    if (this.mode !== 'keep') return;
    const wasFull = this.full;
    this.#trim(Math.min(offset, this.#end));
    if (wasFull && !this.full) this.#events.emit('drain');
  }

  onDrain(listener: () => void): () => void {
    this.#events.on('drain', listener);
    return () => this.#events.off('drain', listener);
  }

  /** The bytes kept from `from` on (or from the oldest kept, if `from` was dropped), and their offset. */
  slice(from: number): { offset: number; data: Buffer } {
    let offset = this.#start;
    const parts: Buffer[] = [];
    for (const chunk of this.#chunks) {
      const chunkEnd = offset + chunk.length;
      if (chunkEnd > from) parts.push(from > offset ? chunk.subarray(from - offset) : chunk);
      offset = chunkEnd;
    }
    return { offset: Math.max(from, this.#start), data: Buffer.concat(parts) };
  }

  /** Resolves when bytes after `offset` exist or the stream closed; `signal` gives up. */
  async waitBeyond(offset: number, signal: AbortSignal): Promise<void> {
    if (this.#end > offset || this.#closed || signal.aborted) return;
    await new Promise<void>((resolve) => {
      const done = () => {
        this.#events.off('data', onData);
        signal.removeEventListener('abort', done);
        resolve();
      };
      const onData = () => {
        if (this.#end > offset || this.#closed) done();
      };
      this.#events.on('data', onData);
      signal.addEventListener('abort', done, { once: true });
    });
  }

  #trim(before: number): void {
    while (this.#chunks.length > 0 && this.#start < before) {
      const first = this.#chunks[0]!;
      const drop = before - this.#start;
      if (drop >= first.length) {
        this.#chunks.shift();
        this.#start += first.length;
      } else {
        this.#chunks[0] = first.subarray(drop);
        this.#start += drop;
      }
    }
  }
}
