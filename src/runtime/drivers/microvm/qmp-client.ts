// A minimal QMP client: one connection to a box's QEMU monitor socket, commands sent one at a
// time, events ignored. What QEMU answers is data from a process running as the box's user, so it
// is only ever parsed as JSON and read for the fields asked for.
import { connect, type Socket } from 'node:net';
import { NixSpaceError } from '../../../errors.js';

type QmpReply = { return?: unknown; error?: { class: string; desc: string }; id?: number };

export class QmpClient {
  readonly #socket: Socket;
  readonly #pending = new Map<number, (reply: QmpReply) => void>();
  #nextId = 1;
  #closed: Error | undefined;

  private constructor(socket: Socket) {
    this.#socket = socket;
  }

  /** Connects, waits for the greeting and leaves capabilities negotiation mode. */
  static async connect(path: string, timeoutMs = 5_000): Promise<QmpClient> {
    const socket = connect(path);
    const client = new QmpClient(socket);
    const greeting = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no QMP greeting on ${path}`)), timeoutMs);
      let buffer = '';
      let greeted = false;
      socket.setEncoding('utf8');
      socket.on('data', (chunk: string) => {
        buffer += chunk;
        for (let end = buffer.indexOf('\n'); end >= 0; end = buffer.indexOf('\n')) {
          const line = buffer.slice(0, end);
          buffer = buffer.slice(end + 1);
          const message = JSON.parse(line) as QmpReply & { QMP?: unknown };
          if (!greeted && message.QMP !== undefined) {
            greeted = true;
            clearTimeout(timer);
            resolve();
          } else if (typeof message.id === 'number') {
            const settle = client.#pending.get(message.id);
            client.#pending.delete(message.id);
            settle?.(message);
          }
        }
      });
      const fail = (error: Error) => {
        clearTimeout(timer);
        client.#closed = error;
        for (const settle of client.#pending.values()) {
          settle({ error: { class: 'Disconnected', desc: error.message } });
        }
        client.#pending.clear();
        reject(error);
      };
      socket.once('error', fail);
      socket.once('close', () => fail(new Error(`QMP connection to ${path} closed`)));
    });
    try {
      await greeting;
      await client.execute('qmp_capabilities');
      client.#idle();
    } catch (error) {
      socket.destroy();
      throw new NixSpaceError('SANDBOX_FAILED', `cannot talk to QEMU's monitor at ${path}`, {
        detail: String(error),
        cause: error,
      });
    }
    return client;
  }

  /** Runs one command; throws a NixSpaceError carrying QEMU's own description when it fails. */
  execute<T = unknown>(command: string, args?: Record<string, unknown>): Promise<T> {
    if (this.#closed) {
      return Promise.reject(
        new NixSpaceError('SANDBOX_FAILED', `QEMU's monitor is gone (${command})`, { cause: this.#closed }),
      );
    }
    const id = this.#nextId++;
    this.#socket.ref();
    return new Promise<T>((resolve, reject) => {
      this.#pending.set(id, (reply) => {
        this.#idle();
        if (reply.error) {
          reject(new NixSpaceError('SANDBOX_FAILED', `QEMU refused ${command}: ${reply.error.desc}`));
        } else {
          resolve(reply.return as T);
        }
      });
      this.#socket.write(`${JSON.stringify({ execute: command, arguments: args, id })}\n`);
    });
  }

  /** An idle monitor connection must not keep the server process alive: boxes outlive it. */
  #idle(): void {
    if (this.#pending.size === 0) this.#socket.unref();
  }

  close(): void {
    this.#socket.destroy();
  }
}
