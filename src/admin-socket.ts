// A Unix socket in the data directory through which the `nixspace` CLI asks a running server for
// things only the owner of the machine may do (a new sign-in link, rotating the token keys). File
// permissions (0600) are its authentication.

import { chmod, rm } from 'node:fs/promises';
import { createServer, request, type Server } from 'node:http';
import { join } from 'node:path';

export function adminSocketPath(dataDir: string): string {
  return join(dataDir, 'nixspace.sock');
}

export async function listenAdminSocket(
  dataDir: string,
  handlers: { loginLink(): Promise<string>; rotateKeys(): Promise<void> },
): Promise<Server> {
  const path = adminSocketPath(dataDir);
  await rm(path, { force: true });
  const server = createServer((req, res) => {
    if (req.method === 'POST' && req.url === '/login-link') {
      handlers.loginLink().then(
        (url) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ url })),
        () => res.writeHead(500).end(),
      );
      return;
    }
    if (req.method === 'POST' && req.url === '/rotate-keys') {
      handlers.rotateKeys().then(
        () => res.writeHead(200, { 'content-type': 'application/json' }).end('{"rotated":true}'),
        () => res.writeHead(500).end(),
      );
      return;
    }
    res.writeHead(404).end();
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(path, () => resolve());
  });
  await chmod(path, 0o600);
  server.unref();
  return server;
}

/** Asks a running server for a sign-in link; undefined when no server answers. */
export async function requestLoginLink(dataDir: string): Promise<string | undefined> {
  const answer = await post(dataDir, '/login-link');
  try {
    return answer === undefined ? undefined : (JSON.parse(answer) as { url: string }).url;
  } catch {
    return undefined;
  }
}

/**
 * Asks a running server to rotate its token-signing keys, refusing every token signed before;
 * false when no server answers.
 */
export async function requestRotateKeys(dataDir: string): Promise<boolean> {
  return (await post(dataDir, '/rotate-keys')) !== undefined;
}

/** The body of a 200 answer, or undefined when no server answers or it fails. */
function post(dataDir: string, path: string): Promise<string | undefined> {
  return new Promise((resolve) => {
    const req = request({ socketPath: adminSocketPath(dataDir), path, method: 'POST' }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        body += chunk;
      });
      res.on('end', () => resolve(res.statusCode === 200 ? body : undefined));
    });
    req.on('error', () => resolve(undefined));
    req.setTimeout(3000, () => req.destroy());
    req.end();
  });
}
