// The agent's stream on a Unix socket of the server's (`unix:<path>`): it dials, hands the
// connection to HTTP/2, and dials again whenever the connection is lost, for as long as it lives.
// Asked to detach (the server saves the box next), it lets go of the connection outright and then
// dials often for a while, so a restored box is back at once.
import { watch } from 'node:fs';
import type { Http2Server } from 'node:http2';
import { connect, type Socket } from 'node:net';
import { dirname } from 'node:path';

/** After a detach: dial this often, this many times. */
const detachedRetryMs = 20;
const detachedDials = 250;

export function dialUnixSocket(path: string, server: Http2Server): { detach(): void } {
  let retryMs = 50;
  let lastError = '';
  let connected = false;
  let current: Socket | undefined;
  let quickDials = 0;
  let retry: NodeJS.Timeout | undefined;
  function dial(): void {
    clearTimeout(retry);
    retry = undefined;
    const socket: Socket = connect(path);
    socket.once('connect', () => {
      retryMs = 50;
      quickDials = 0;
      connected = true;
      current = socket;
      server.emit('connection', socket);
    });
    socket.once('close', () => {
      connected = false;
      if (current === socket) current = undefined;
      retry = setTimeout(dial, quickDials > 0 ? detachedRetryMs : retryMs);
    });
    socket.once('error', (error: NodeJS.ErrnoException) => {
      if (quickDials > 0) quickDials -= 1;
      else retryMs = Math.min(1000, retryMs * 2);
      // Said once per kind of failure, not at every try.
      if (error.code !== lastError)
        process.stderr.write(`nixspace-agent: cannot reach ${path}: ${error.message}\n`);
      lastError = error.code ?? error.message;
    });
  }
  dial();
  // A server that comes back makes its socket anew: dial at once rather than at the next retry.
  try {
    watch(dirname(path), () => {
      if (!connected && retry !== undefined) dial();
    }).on('error', () => undefined);
  } catch {
    // no inotify here: the retries do
  }
  return {
    /**
     * A checkpoint cannot keep a connection to the host: the socket is closed outright, so that
     * the server seeing it end means the box holds none any more. The server's socket is gone
     * meanwhile; the dials after the box is restored find the new one.
     */
    detach(): void {
      quickDials = detachedDials;
      current?.destroy();
    },
  };
}
