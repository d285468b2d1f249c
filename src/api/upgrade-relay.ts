// Relays a browser's WebSocket upgrade to an HTTP server on a Unix socket (the IDE's) as bytes, as
// a reverse proxy does: the request line and headers are written anew, then the two sockets are
// piped. Frames of any size pass with backpressure and are never parsed or held whole, so what the
// upstream speaks reaches the browser unchanged (extensions such as permessage-deflate included),
// and a hostile upstream cannot make the server buffer a giant message.

import type { IncomingHttpHeaders } from 'node:http';
import { connect } from 'node:net';
import type { Duplex } from 'node:stream';
import type { ErrorBody } from '../errors.js';

/** Headers that describe the hop, not the request: the relay sets its own. */
const hopHeaders = new Set(['host', 'origin', 'cookie', 'connection', 'upgrade', 'keep-alive']);

export interface UpgradeTarget {
  socketPath: string;
  /** Path and query to ask the upstream for. */
  path: string;
  /** Host and Origin the upstream is shown (code-server accepts an Origin matching its Host). */
  host: string;
  origin: string;
  cookie: string | undefined;
}

export interface UpgradeRelay {
  /** Cuts both sides. */
  close(): void;
}

/**
 * Relays `client` (the socket of an upgrade request whose headers are `headers`) to `target`;
 * `onClose` runs once when either side is gone. An upstream that cannot be reached is answered
 * with 503 and the error body, `unavailable` saying what to tell the browser.
 */
export function relayUpgrade(
  client: Duplex,
  headers: IncomingHttpHeaders,
  target: UpgradeTarget,
  unavailable: ErrorBody,
  onClose: () => void,
): UpgradeRelay {
  const upstream = connect(target.socketPath);
  let connected = false;
  let closed = false;
  const close = () => {
    if (closed) return;
    closed = true;
    client.destroy();
    upstream.destroy();
    onClose();
  };

  upstream.once('connect', () => {
    connected = true;
    upstream.setNoDelay(true);
    upstream.write(requestHead(headers, target));
    upstream.pipe(client);
    client.pipe(upstream);
  });
  upstream.on('error', () => {
    if (!connected && !closed && client.writable) {
      const body = JSON.stringify(unavailable);
      client.end(
        `HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
      );
      client.once('finish', close);
      return;
    }
    close();
  });
  // The server's sockets allow half-open connections: a side that ends its stream ends the relay
  // (once what the upstream sent last has reached the browser).
  upstream.on('close', close);
  client.on('finish', close);
  client.on('end', close);
  client.on('error', close);
  client.on('close', close);
  return { close };
}

function requestHead(headers: IncomingHttpHeaders, target: UpgradeTarget): string {
  const lines = [
    `GET ${target.path} HTTP/1.1`,
    `Host: ${target.host}`,
    `Origin: ${target.origin}`,
    'Connection: Upgrade',
    'Upgrade: websocket',
  ];
  if (target.cookie) lines.push(`Cookie: ${target.cookie}`);
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined || hopHeaders.has(name)) continue;
    for (const one of Array.isArray(value) ? value : [value]) lines.push(`${name}: ${one}`);
  }
  return `${lines.join('\r\n')}\r\n\r\n`;
}
