// The agent's stream on a Unix socket of the server's (`unix:<path>`): it dials, hands the
// connection to HTTP/2, and dials again whenever the connection is lost, for as long as it lives.
import { watch } from 'node:fs';
import type { Http2Server } from 'node:http2';
import { connect, type Socket } from 'node:net';
import { dirname } from 'node:path';

export function dialUnixSocket(path: string, server: Http2Server): void {
  let retryMs = 50;
  let lastError = '';
  let connected = false;
  let retry: NodeJS.Timeout | undefined;
  function dial(): void {
    clearTimeout(retry);
    retry = undefined;
    const socket: Socket = connect(path);
    socket.once('connect', () => {
      retryMs = 50;
      connected = true;
      server.emit('connection', socket);
    });
    socket.once('close', () => {
      connected = false;
      retry = setTimeout(dial, retryMs);
    });
    socket.once('error', (error: NodeJS.ErrnoException) => {
      retryMs = Math.min(1000, retryMs * 2);
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
}
