// nixspace-agent: the first process of a workspace. It runs everything the server asks for in the
// workspace and keeps it running while the server is away. It dials the server (the transport in
// NIXSPACE_AGENT_TRANSPORT), serves the agent protocol over that connection, and dials again
// whenever the connection is lost, for as long as it lives.
import { randomUUID } from 'node:crypto';
import { readFileSync, watch } from 'node:fs';
import { createServer, type Http2ServerRequest, type Http2ServerResponse } from 'node:http2';
import { connect, type Socket } from 'node:net';
import { dirname } from 'node:path';
import type { AgentHello } from '../wire/agent.js';
import { AGENT_CGROUPS_ENV, AGENT_PROTOCOL, AGENT_TRANSPORT_ENV } from '../wire/agent-names.js';
import { AgentProcesses } from './agent-processes.js';

/** Larger than HTTP/2's 64 KiB default, so busy output streams are not held up by the window. */
const windowBytes = 4 << 20;

function version(): string {
  try {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8'));
    return String(pkg.version).slice(0, 64);
  } catch {
    return 'unknown';
  }
}

function transportPath(): string {
  const transport = process.env[AGENT_TRANSPORT_ENV] ?? '';
  if (!transport.startsWith('unix:/')) {
    process.stderr.write(`nixspace-agent: ${AGENT_TRANSPORT_ENV} must be unix:<path>, not "${transport}"\n`);
    process.exit(2);
  }
  return transport.slice('unix:'.length);
}

const path = transportPath();
const processes = new AgentProcesses((process.env[AGENT_CGROUPS_ENV] ?? '').split(':').filter(Boolean));
const hello: AgentHello = {
  protocol: AGENT_PROTOCOL,
  version: version(),
  bootId: randomUUID(),
  pid: process.pid,
};
// The greeting needs no schema: it is answered at once, while the routes (and their schemas) load.
const routes = import('./agent-routes.js').then(({ agentRoutes }) => agentRoutes(processes, hello));
const greeting = JSON.stringify(hello);
function handle(req: Http2ServerRequest, res: Http2ServerResponse): void {
  if (req.method === 'GET' && req.url === '/v1/hello') {
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(greeting) });
    res.end(greeting);
    return;
  }
  if (req.method === 'POST' && req.url === '/v1/detach') {
    res.stream.once('close', detach);
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': 2 });
    res.end('{}');
    return;
  }
  void routes.then((route) => route(req, res));
}
const server = createServer({ settings: { initialWindowSize: windowBytes } }, handle);
server.on('session', (session) => session.setLocalWindowSize(windowBytes));

/** After a detach: dial this often, this many times, so a restored box is back at once. */
const detachedRetryMs = 20;
const detachedDials = 250;

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

/**
 * The server saves the box next (a checkpoint cannot keep a connection to the host): the socket is
 * closed outright, so that the server seeing it end means the box holds no connection any more.
 * The server's socket is gone meanwhile; the dials after the box is restored find the new one.
 */
function detach(): void {
  quickDials = detachedDials;
  current?.destroy();
}

for (const signal of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) process.on(signal, () => process.exit(0));
dial();
// A server that comes back makes its socket anew: dial at once rather than at the next retry.
try {
  watch(dirname(path), () => {
    if (!connected && retry !== undefined) dial();
  }).on('error', () => undefined);
} catch {
  // no inotify here: the retries do
}
