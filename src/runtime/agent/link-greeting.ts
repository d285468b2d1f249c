// The server's half of the greeting that opens a connection over a stream outliving its ends (a
// microVM's virtio-serial port, src/wire/agent-greeting.ts): it sends a fresh nonce and drops every
// byte until the agent's answer with that nonce, so whatever the agent wrote for an earlier server
// cannot pass for this connection's. What comes after the answer is left unread on the socket.
import { randomBytes } from 'node:crypto';
import type { Socket } from 'node:net';
import { NixSpaceError } from '../../errors.js';
import {
  AGENT_GREETING_PREFIX,
  GreetingScanner,
  greetingLine,
  LINK_GREETING_PREFIX,
} from '../../wire/agent-greeting.js';

/** What an agent may have queued for an earlier server before it answers this one. */
export const maxBytesBeforeGreeting = 16 << 20;

/**
 * Resolves once the agent has answered this connection's greeting; rejects when it has not within
 * `timeoutMs`. A box's QEMU connects as soon as it starts, long before its guest has an agent to
 * answer, and a greeting that reached the guest before its agent read the port may be lost: the
 * caller drops the connection, QEMU dials again within a second, and the agent, having read the
 * end of the old one, answers the new greeting.
 */
export function greetAgent(socket: Socket, timeoutMs: number): Promise<void> {
  const nonce = randomBytes(16).toString('hex');
  const scanner = new GreetingScanner(AGENT_GREETING_PREFIX, { nonce, maxBytes: maxBytesBeforeGreeting });
  return new Promise<void>((resolve, reject) => {
    const timer = setTimeout(
      () =>
        done(new NixSpaceError('SANDBOX_FAILED', `the workspace agent did not greet within ${timeoutMs} ms`)),
      timeoutMs,
    );
    const done = (error?: Error) => {
      clearTimeout(timer);
      socket.off('data', onData);
      socket.off('close', onClose);
      socket.off('error', onClose);
      if (error) reject(error);
      else resolve();
    };
    const onData = (chunk: Buffer) => {
      let answer: ReturnType<GreetingScanner['feed']>;
      try {
        answer = scanner.feed(chunk);
      } catch (error) {
        done(new NixSpaceError('SANDBOX_FAILED', `the workspace agent did not greet: ${String(error)}`));
        return;
      }
      if (answer === undefined) return;
      socket.pause();
      if (answer.rest.length > 0) socket.unshift(answer.rest);
      done();
    };
    const onClose = () =>
      done(new NixSpaceError('SANDBOX_FAILED', 'the agent connection closed before it greeted'));
    socket.on('data', onData);
    socket.once('close', onClose);
    socket.once('error', onClose);
    socket.write(greetingLine(LINK_GREETING_PREFIX, nonce));
  });
}
