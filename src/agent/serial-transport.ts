// The agent's stream on a microVM's virtio-serial port (`serial:<path>`). The guest opens the port
// once and keeps it: while no server is connected on the host side a read returns 0 at once,
// which is not the end of the port, and when QEMU reconnects to a (new) server data flows again on
// the same descriptor. Each such flow starts a new connection: the server's greeting (found past
// whatever an earlier server left), the agent's answer, then HTTP/2 over a Duplex of this
// descriptor. Reads and writes block in libuv's thread pool, one at a time each, in order.
import { openSync, read, write } from 'node:fs';
import type { Http2Server } from 'node:http2';
import { Duplex } from 'node:stream';
import {
  AGENT_GREETING_PREFIX,
  GreetingScanner,
  GreetingTooFarError,
  greetingLine,
  LINK_GREETING_PREFIX,
} from '../wire/agent-greeting.js';

/** While the host end is absent, reads return 0 at once: look again this often. */
const absentPollMs = 20;
/** What an earlier server may have left queued before a new one's greeting. */
const maxStaleBytes = 16 << 20;

interface QueuedWrite {
  bytes: Buffer;
  connection: number;
  done: (error?: Error | null) => void;
}

class PortConnection extends Duplex {
  #wantsData = true;
  #onWant: (() => void) | undefined;

  constructor(
    readonly number: number,
    readonly send: (bytes: Buffer, done: (error?: Error | null) => void) => void,
    readonly ended: (connection: PortConnection) => void,
  ) {
    super({ allowHalfOpen: false });
  }

  /** Hands bytes read from the port to HTTP/2; false while it wants no more for now. */
  deliver(bytes: Buffer): boolean {
    this.#wantsData = this.push(bytes);
    return this.#wantsData;
  }

  whenWanting(then: () => void): void {
    if (this.#wantsData || this.destroyed) then();
    else this.#onWant = then;
  }

  override _read(): void {
    this.#wantsData = true;
    const then = this.#onWant;
    this.#onWant = undefined;
    then?.();
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, done: (error?: Error | null) => void): void {
    this.send(chunk, done);
  }

  override _final(done: (error?: Error | null) => void): void {
    done();
    this.destroy();
  }

  override _destroy(error: Error | null, done: (error?: Error | null) => void): void {
    this.ended(this);
    const then = this.#onWant;
    this.#onWant = undefined;
    then?.();
    done(error);
  }
}

export function serveOnSerialPort(path: string, server: Http2Server): void {
  const fd = openSync(path, 'r+');
  const buffer = Buffer.alloc(64 * 1024);
  let connections = 0;
  let current: PortConnection | undefined;
  let scanner: GreetingScanner | undefined;
  const queue: QueuedWrite[] = [];
  let writing = false;

  const pumpWrites = () => {
    if (writing) return;
    // What a connection that has ended still wanted to say is for nobody.
    while (queue.length > 0 && queue[0] !== undefined && queue[0].connection !== current?.number) {
      queue.shift()?.done();
    }
    const next = queue[0];
    if (next === undefined) return;
    writing = true;
    write(fd, next.bytes, 0, next.bytes.length, null, (error, written) => {
      writing = false;
      if (error) {
        queue.shift();
        next.done(error);
      } else if (written < next.bytes.length) {
        next.bytes = next.bytes.subarray(written);
      } else {
        queue.shift();
        next.done();
      }
      pumpWrites();
    });
  };
  const send = (connection: number, bytes: Buffer, done: (error?: Error | null) => void) => {
    queue.push({ bytes, connection, done });
    pumpWrites();
  };

  const endConnection = () => {
    const connection = current;
    current = undefined;
    connection?.push(null);
    connection?.destroy();
  };

  const onData = (bytes: Buffer): boolean => {
    if (current !== undefined) return current.deliver(Buffer.from(bytes));
    scanner ??= new GreetingScanner(LINK_GREETING_PREFIX, { maxBytes: maxStaleBytes });
    let greeting: ReturnType<GreetingScanner['feed']>;
    try {
      greeting = scanner.feed(bytes);
    } catch (error) {
      if (!(error instanceof GreetingTooFarError)) throw error;
      scanner = undefined;
      return true;
    }
    if (greeting === undefined) return true;
    scanner = undefined;
    connections += 1;
    const connection: PortConnection = new PortConnection(
      connections,
      (chunk, done) => send(connection.number, chunk, done),
      (ended) => {
        if (current === ended) current = undefined;
      },
    );
    current = connection;
    send(connection.number, greetingLine(AGENT_GREETING_PREFIX, greeting.nonce), () => undefined);
    server.emit('connection', connection);
    return greeting.rest.length === 0 || connection.deliver(greeting.rest);
  };

  const pumpReads = () => {
    read(fd, buffer, 0, buffer.length, null, (error, length) => {
      if (error || length === 0) {
        // The server is absent (or going): its connection is over; the port is not.
        endConnection();
        scanner = undefined;
        setTimeout(pumpReads, absentPollMs);
        return;
      }
      const more = onData(buffer.subarray(0, length));
      if (more || current === undefined) pumpReads();
      else current.whenWanting(pumpReads);
    });
  };
  pumpReads();
}
