// A real smart-HTTP git server on loopback for tests: `git http-backend` (CGI) behind node:http,
// so the git layer is exercised over the same protocol (v2, chunked bodies) it meets in production.

import { spawn, spawnSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface GitHttpServer extends AsyncDisposable {
  /** Directory served as GIT_PROJECT_ROOT; create repositories here (see git-fixtures.ts). */
  readonly root: string;
  readonly port: number;
  /** Clone URL of the repository `<root>/<name>`. */
  url(name: string): string;
  /** Number of requests answered so far (lets tests count network round trips). */
  readonly requestCount: number;
  close(): Promise<void>;
}

const httpBackend = join(
  spawnSync('git', ['--exec-path'], { encoding: 'utf8' }).stdout.trim(),
  'git-http-backend',
);

export async function startGitHttpServer(options: { root?: string } = {}): Promise<GitHttpServer> {
  const ownsRoot = options.root === undefined;
  const root = options.root ?? (await mkdtemp(join(tmpdir(), 'nixspace-git-http-')));
  let requestCount = 0;

  const server = createServer((req, res) => {
    requestCount += 1;
    serveCgi(root, req, res);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;

  let closed: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closed ??= (async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      if (ownsRoot) await rm(root, { recursive: true, force: true });
    })();
    return closed;
  };

  return {
    root,
    port,
    url: (name) => `http://127.0.0.1:${port}/${name}`,
    get requestCount() {
      return requestCount;
    },
    close,
    [Symbol.asyncDispose]: close,
  };
}

function serveCgi(root: string, req: IncomingMessage, res: ServerResponse): void {
  const url = new URL(req.url ?? '/', 'http://127.0.0.1');
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    GIT_PROJECT_ROOT: root,
    GIT_HTTP_EXPORT_ALL: '1',
    GIT_CONFIG_NOSYSTEM: '1',
    GIT_CONFIG_GLOBAL: '/dev/null',
    GATEWAY_INTERFACE: 'CGI/1.1',
    REQUEST_METHOD: req.method ?? 'GET',
    PATH_INFO: decodeURIComponent(url.pathname),
    QUERY_STRING: url.search.slice(1),
    REMOTE_ADDR: req.socket.remoteAddress ?? '127.0.0.1',
    CONTENT_TYPE: req.headers['content-type'] ?? '',
    // Without this header the backend falls back to protocol v0; real servers pass it through.
    GIT_PROTOCOL: headerValue(req.headers['git-protocol']),
    HTTP_CONTENT_ENCODING: headerValue(req.headers['content-encoding']),
  };
  if (req.headers['content-length'] !== undefined) env.CONTENT_LENGTH = req.headers['content-length'];

  const cgi = spawn(httpBackend, [], { env, stdio: ['pipe', 'pipe', 'ignore'] });
  req.pipe(cgi.stdin);
  cgi.stdin.on('error', () => {});
  res.on('close', () => {
    if (cgi.exitCode === null) cgi.kill('SIGKILL');
  });

  // CGI output is a header block, a blank line, then the body; Status: sets the HTTP status.
  let head = Buffer.alloc(0);
  let headersSent = false;
  cgi.stdout.on('data', (chunk: Buffer) => {
    if (headersSent) {
      res.write(chunk);
      return;
    }
    head = Buffer.concat([head, chunk]);
    const crlf = head.indexOf('\r\n\r\n');
    const lf = head.indexOf('\n\n');
    const end = crlf !== -1 && (lf === -1 || crlf < lf) ? crlf : lf;
    if (end === -1) return;
    const bodyStart = end + (end === crlf ? 4 : 2);
    let status = 200;
    for (const line of head.subarray(0, end).toString('latin1').split(/\r?\n/)) {
      const colon = line.indexOf(':');
      if (colon === -1) continue;
      const name = line.slice(0, colon).trim();
      const value = line.slice(colon + 1).trim();
      if (name.toLowerCase() === 'status') status = Number.parseInt(value, 10) || 500;
      else res.setHeader(name, value);
    }
    res.statusCode = status;
    headersSent = true;
    const body = head.subarray(bodyStart);
    if (body.length > 0) res.write(body);
  });
  cgi.on('close', (code) => {
    if (!headersSent) res.statusCode = code === 0 ? 200 : 500;
    res.end();
  });
  cgi.on('error', () => {
    if (!res.headersSent) res.statusCode = 500;
    res.end();
  });
}

function headerValue(value: string | string[] | undefined): string {
  return Array.isArray(value) ? value.join(', ') : (value ?? '');
}
