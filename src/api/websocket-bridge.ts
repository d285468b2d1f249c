// Joins a browser's WebSocket to an upstream one (the IDE's, over its Unix socket): messages keep
// their text/binary kind, a close on either side closes the other, and what the browser sends
// before the upstream is open is queued rather than lost.

import WebSocket from 'ws';

export function bridgeWebSocket(
  client: WebSocket,
  upstreamUrl: string,
  headers: Record<string, string>,
): void {
  const upstream = new WebSocket(upstreamUrl, { headers, perMessageDeflate: false });
  const queued: [WebSocket.RawData, boolean][] = [];

  client.on('message', (data: WebSocket.RawData, isBinary: boolean) => {
    if (upstream.readyState === WebSocket.OPEN) upstream.send(data, { binary: isBinary });
    else if (upstream.readyState === WebSocket.CONNECTING) queued.push([data, isBinary]);
  });
  upstream.on('open', () => {
    for (const [data, isBinary] of queued.splice(0)) upstream.send(data, { binary: isBinary });
  });
  upstream.on('message', (data: WebSocket.RawData, isBinary: boolean) => {
    if (client.readyState === WebSocket.OPEN) client.send(data, { binary: isBinary });
  });

  client.on('close', (code, reason) => close(upstream, code, reason));
  upstream.on('close', (code, reason) => close(client, code, reason));
  client.on('error', () => close(upstream, 1011));
  upstream.on('error', () => close(client, 1011, Buffer.from('IDE connection failed')));
  upstream.on('unexpected-response', (_request, response) => {
    close(client, 1011, Buffer.from(`IDE answered ${response.statusCode}`));
    upstream.terminate();
  });
}

/** Codes a peer may not send (1005 no status, 1006 abnormal) become a plain or error close. */
function close(socket: WebSocket, code: number, reason?: Buffer): void {
  const sendable = code === 1005 ? 1000 : code === 1006 || code < 1000 || code >= 5000 ? 1011 : code;
  if (socket.readyState === WebSocket.OPEN) socket.close(sendable, reason);
  else if (socket.readyState === WebSocket.CONNECTING) socket.terminate();
}
