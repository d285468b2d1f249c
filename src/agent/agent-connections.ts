// A byte stream from the server to a Unix socket in the workspace: the agent connects, as the
// workspace user, to what listens there (VS Code's code-server) and pipes the HTTP/2 stream both
// ways. The server never connects to a path inside the workspace itself, and a driver whose box
// shares no socket with the host (a gVisor box, a microVM) needs nothing more.
import type { Http2ServerRequest, Http2ServerResponse } from 'node:http2';
import { connect } from 'node:net';
import { connectionTarget } from '../wire/agent.js';
import { AgentProcessError } from './agent-processes.js';

export function connectTo(
  req: Http2ServerRequest,
  res: Http2ServerResponse,
  target: string | null,
): Promise<void> {
  const path = connectionTarget.safeParse(target);
  if (!path.success)
    throw new AgentProcessError(400, 'BAD_REQUEST', 'a connection needs an absolute socket path');
  return new Promise((resolve, reject) => {
    // Either side may finish sending and still read what the other has to say.
    const socket = connect({ path: path.data, allowHalfOpen: true });
    socket.once('error', (error: NodeJS.ErrnoException) => {
      if (!res.headersSent) {
        reject(
          new AgentProcessError(
            502,
            'UNREACHABLE',
            `cannot connect to ${path.data}: ${error.code ?? error.message}`,
          ),
        );
      }
    });
    socket.once('connect', () => {
      res.writeHead(200, { 'content-type': 'application/octet-stream' });
      const stream = res.stream;
      socket.on('error', () => stream.destroy());
      stream.on('error', () => socket.destroy());
      stream.once('close', () => {
        // A stream ended in order leaves the socket to finish writing what it holds; one reset
        // (the server went, or gave up on it) takes the socket with it.
        if (stream.rstCode === 0) socket.end();
        else socket.destroy();
        resolve();
      });
      req.pipe(socket);
      socket.pipe(stream);
    });
  });
}
