// The greeting pair that opens each connection over a stream outliving its two ends (a microVM's
// virtio-serial port: the guest keeps one descriptor across server restarts, QEMU reconnects to
// each new server). Bytes one side wrote for an earlier connection may reach the next one there,
// so each connection starts afresh: the server says `NIXSPACE-LINK 1 <nonce>`, the agent answers
// `NIXSPACE-AGENT 1 <nonce>` with the same fresh nonce, and HTTP/2 follows as over a socket. Each
// side discards whatever precedes the greeting it waits for. A Unix socket has no such past and
// no greeting.
import { AGENT_PROTOCOL } from './agent-names.js';

export const LINK_GREETING_PREFIX = `NIXSPACE-LINK ${AGENT_PROTOCOL} `;
export const AGENT_GREETING_PREFIX = `NIXSPACE-AGENT ${AGENT_PROTOCOL} `;
const nonceChars = 32;
const nonceShape = /^[0-9a-f]{32}$/;

export function greetingLine(prefix: string, nonce: string): Buffer {
  return Buffer.from(`${prefix}${nonce}\n`, 'latin1');
}

export class GreetingTooFarError extends Error {}

/**
 * Finds a greeting line (`prefix`, a nonce of 32 hex digits, a newline) in a stream fed chunk by
 * chunk, keeping only the bytes that may still be part of one. With `nonce`, only that one counts.
 * Throws GreetingTooFarError once more than `maxBytes` went by without it.
 */
export class GreetingScanner {
  readonly #prefix: Buffer;
  readonly #nonce: string | undefined;
  readonly #maxBytes: number;
  #pending = Buffer.alloc(0);
  #seen = 0;

  constructor(prefix: string, options: { nonce?: string; maxBytes: number }) {
    this.#prefix = Buffer.from(prefix, 'latin1');
    this.#nonce = options.nonce;
    this.#maxBytes = options.maxBytes;
  }

  /** The greeting's nonce and the bytes after its line, once it has come. */
  feed(chunk: Buffer): { nonce: string; rest: Buffer } | undefined {
    this.#seen += chunk.length;
    let pending = this.#pending.length === 0 ? chunk : Buffer.concat([this.#pending, chunk]);
    const lineBytes = this.#prefix.length + nonceChars + 1;
    for (;;) {
      const at = pending.indexOf(this.#prefix);
      if (at < 0) {
        pending = pending.subarray(Math.max(0, pending.length - this.#prefix.length + 1));
        break;
      }
      if (pending.length - at < lineBytes) {
        pending = pending.subarray(at);
        break;
      }
      const start = at + this.#prefix.length;
      const nonce = pending.toString('latin1', start, start + nonceChars);
      if (
        nonceShape.test(nonce) &&
        pending[start + nonceChars] === 0x0a &&
        (this.#nonce === undefined || nonce === this.#nonce)
      ) {
        this.#pending = Buffer.alloc(0);
        return { nonce, rest: Buffer.from(pending.subarray(at + lineBytes)) };
      }
      pending = pending.subarray(at + 1);
    }
    if (this.#seen > this.#maxBytes) {
      throw new GreetingTooFarError(`no greeting in the first ${this.#maxBytes} bytes`);
    }
    // A copy: the chunk's buffer may be reused by whoever read it.
    this.#pending = Buffer.from(pending);
    return undefined;
  }
}
