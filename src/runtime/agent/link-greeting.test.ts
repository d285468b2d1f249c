// The greeting over a stream that outlives its ends (a microVM's virtio-serial port): what an
// agent wrote for an earlier server, even an earlier greeting's answer and a whole hello, must not
// pass for the new connection's agent. A plain Unix socket stands in for QEMU's connection here;
// the microVM suites run the real agent over the real port.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer as createHttp2Server } from 'node:http2';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  AGENT_GREETING_PREFIX,
  GreetingScanner,
  greetingLine,
  LINK_GREETING_PREFIX,
} from '../../wire/agent-greeting.js';
import type { AgentClient } from './agent-client.js';
import { AgentLink } from './agent-link.js';
import { maxBytesBeforeGreeting } from './link-greeting.js';

/** Serves a hello with `bootId` over `socket`, HTTP/2 starting with `first`. */
function serveHello(socket: Socket, bootId: string, first: Buffer): void {
  const server = createHttp2Server((_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ protocol: 1, version: 'test', bootId, pid: 1 }));
  });
  socket.pause();
  if (first.length > 0) socket.unshift(first);
  server.emit('connection', socket);
}

/** Connects like QEMU does and reads the server's greeting: its nonce and what came after. */
async function dial(path: string): Promise<{ socket: Socket; nonce: string; rest: Buffer }> {
  const socket = connect(path);
  socket.on('error', () => undefined);
  const scanner = new GreetingScanner(LINK_GREETING_PREFIX, { maxBytes: 1 << 20 });
  return new Promise((resolve, reject) => {
    socket.on('data', function onData(chunk: Buffer) {
      const found = scanner.feed(chunk);
      if (found === undefined) return;
      socket.off('data', onData);
      socket.pause();
      resolve({ socket, ...found });
    });
    socket.once('close', () => reject(new Error('closed before the greeting')));
  });
}

const staleHello = (bootId: string) =>
  Buffer.from(`HTTP/2 junk {"protocol":1,"version":"x","bootId":"${bootId}","pid":1}\n`);

describe('the agent link over a stream with a past', () => {
  let dir: string;
  let link: AgentLink;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'nixspace-greeting-'));
    link = await AgentLink.listen(join(dir, 'agent.sock'), undefined, { greeting: true });
  });

  after(async () => {
    await link.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('drops what precedes the answer to its own nonce, an earlier answer included', async () => {
    const { socket, nonce } = await dial(link.socketPath);
    assert.match(nonce, /^[0-9a-f]{32}$/);
    const earlier = '0'.repeat(32);
    socket.write(staleHello('stale'));
    socket.write(greetingLine(AGENT_GREETING_PREFIX, earlier));
    socket.write(Buffer.from(`${AGENT_GREETING_PREFIX}${nonce.slice(0, 16)}`));
    socket.write(Buffer.from(`\n${AGENT_GREETING_PREFIX}${nonce}x\n`));
    const bootId = randomUUID();
    socket.write(greetingLine(AGENT_GREETING_PREFIX, nonce));
    serveHello(socket, bootId, Buffer.alloc(0));
    const client = await link.connected({ timeoutMs: 20_000 });
    assert.equal(client.hello.bootId, bootId);
    assert.equal(link.client, client);
  });

  it('takes no agent that answers without the nonce, and drops it past the bound', async () => {
    const before = link.client;
    const { socket } = await dial(link.socketPath);
    const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
    socket.resume();
    // An agent that skips the greeting and says hello at once, then keeps talking.
    socket.write(staleHello('skipped'));
    const junk = Buffer.alloc(1 << 20, 0x41);
    let sent = 0;
    while (!socket.destroyed && sent <= 2 * maxBytesBeforeGreeting) {
      sent += junk.length;
      if (!socket.write(junk)) await Promise.race([new Promise((r) => socket.once('drain', r)), closed]);
    }
    await closed;
    assert.equal(link.client, before);
    assert.notEqual(link.client?.hello.bootId, 'skipped');
  });

  it('drops a connection whose agent never answers, so that QEMU dials again', async () => {
    const { socket } = await dial(link.socketPath);
    socket.resume();
    // The guest missed the greeting: only the end of this connection lets the agent hear a new one.
    await new Promise<void>((resolve) => socket.once('close', () => resolve()));
    const again = await dial(link.socketPath);
    assert.match(again.nonce, /^[0-9a-f]{32}$/);
    again.socket.destroy();
  });

  it('greets each new connection afresh', async () => {
    const first = await dial(link.socketPath);
    const second = await dial(link.socketPath);
    assert.notEqual(first.nonce, second.nonce);
    // The second answers with the first's nonce: that is not an answer to it.
    second.socket.write(greetingLine(AGENT_GREETING_PREFIX, first.nonce));
    serveHello(second.socket, 'second', second.rest);
    const next = new Promise<AgentClient>((resolve) => link.onConnected(resolve));
    const bootId = randomUUID();
    first.socket.write(greetingLine(AGENT_GREETING_PREFIX, first.nonce));
    serveHello(first.socket, bootId, first.rest);
    assert.equal((await next).hello.bootId, bootId);
    assert.equal(link.client?.hello.bootId, bootId);
    second.socket.destroy();
  });
});
