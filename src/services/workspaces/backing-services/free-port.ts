// Free TCP ports on the host's loopback, for services of a sandbox that shares the host network.
import { createServer } from 'node:net';

/** Asks the kernel for an unused port; `preferred` is kept when it is still free. */
export function freePort(preferred?: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', (error: NodeJS.ErrnoException) => {
      if (preferred !== undefined && error.code === 'EADDRINUSE') resolve(freePort());
      else reject(error);
    });
    server.listen({ host: '127.0.0.1', port: preferred ?? 0, exclusive: true }, () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}
