import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import WebSocket, { WebSocketServer } from 'ws';
import { relayUpgrade } from './upgrade-relay.js';

const listen = (server: Server) => new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));

describe('the WebSocket upgrade relay', () => {
  let dir = '';
  let upstream: Server;
  let front: Server;
  let frontUrl = '';
  let seen: IncomingMessage | undefined;
  let closedRelays = 0;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'nixspace-relay-'));
    // A real WebSocket server on a Unix socket that echoes every message, capped nowhere.
    upstream = createServer();
    const wss = new WebSocketServer({ server: upstream, maxPayload: 0 });
    wss.on('connection', (socket, request) => {
      seen = request;
      socket.on('message', (data, isBinary) => socket.send(data, { binary: isBinary }));
    });
    await new Promise<void>((resolve) => upstream.listen(join(dir, 'up.sock'), resolve));

    front = createServer();
    front.on('upgrade', (request: IncomingMessage, socket) => {
      const missing = request.url === '/missing';
      relayUpgrade(
        socket,
        request.headers,
        {
          socketPath: join(dir, missing ? 'nothing.sock' : 'up.sock'),
          path: `/inner${request.url}`,
          host: 'localhost',
          origin: 'http://localhost',
          cookie: 'kept=1',
        },
        { code: 'IDE_UNAVAILABLE', message: 'not there' },
        () => closedRelays++,
      );
    });
    await listen(front);
    frontUrl = `ws://127.0.0.1:${(front.address() as AddressInfo).port}`;
  });

  after(async () => {
    front.closeAllConnections();
    upstream.closeAllConnections();
    await new Promise((resolve) => front.close(resolve));
    await new Promise((resolve) => upstream.close(resolve));
    await rm(dir, { recursive: true, force: true });
  });

  it('passes frames far larger than any WebSocket cap of the server, both ways and unchanged', async () => {
    const socket = new WebSocket(`${frontUrl}/socket?x=1`, {
      headers: { origin: 'http://browser.example', cookie: 'dropped=1' },
      maxPayload: 0,
    });
    await new Promise((resolve, reject) => socket.once('open', resolve).once('error', reject));
    assert.equal(seen?.url, '/inner/socket?x=1');
    assert.equal(seen?.headers.host, 'localhost');
    assert.equal(seen?.headers.origin, 'http://localhost');
    assert.equal(seen?.headers.cookie, 'kept=1');

    const big = Buffer.alloc(8 * 1024 * 1024 + 17);
    for (let i = 0; i < big.length; i++) big[i] = (i * 31) % 251;
    const text = 'x'.repeat(3 * 1024 * 1024);
    const echoed: [Buffer, boolean][] = [];
    const both = new Promise<void>((resolve) =>
      socket.on('message', (data: Buffer, isBinary) => {
        echoed.push([data, isBinary]);
        if (echoed.length === 2) resolve();
      }),
    );
    socket.send(big);
    socket.send(text);
    await both;
    assert.equal(echoed[0]?.[1], true);
    assert.ok(echoed[0]?.[0].equals(big), 'the 8 MiB binary frame came back unchanged');
    assert.equal(echoed[1]?.[1], false);
    assert.equal(echoed[1]?.[0].toString(), text);

    const before = closedRelays;
    const closed = new Promise<number>((resolve) => socket.once('close', resolve));
    socket.close(1000);
    assert.equal(await closed, 1000);
    while (closedRelays === before) await new Promise((resolve) => setTimeout(resolve, 10));
  });

  it('answers 503 with the error body when the upstream is not there', async () => {
    const socket = new WebSocket(`${frontUrl}/missing`);
    const response = await new Promise<{ status: number; body: string }>((resolve) =>
      socket.once('unexpected-response', (_request, res) => {
        let body = '';
        res.on('data', (chunk) => {
          body += chunk;
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      }),
    );
    assert.equal(response.status, 503);
    assert.deepEqual(JSON.parse(response.body), { code: 'IDE_UNAVAILABLE', message: 'not there' });
  });
});
