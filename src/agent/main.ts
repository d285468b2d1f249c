// nixspace-agent: the first process of a workspace. It runs everything the server asks for in the
// workspace and keeps it running while the server is away. It dials the server (the transport in
// NIXSPACE_AGENT_TRANSPORT: a Unix socket, or a microVM's virtio-serial port), serves the agent
// protocol over that connection, and takes the next one whenever it is lost, for as long as it lives.
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, type Http2ServerRequest, type Http2ServerResponse } from 'node:http2';
import type { AgentHello } from '../wire/agent.js';
import { AGENT_CGROUPS_ENV, AGENT_PROTOCOL, AGENT_TRANSPORT_ENV } from '../wire/agent-names.js';
import { AgentProcesses } from './agent-processes.js';
import { serveOnSerialPort } from './serial-transport.js';
import { dialUnixSocket } from './unix-transport.js';

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

function transportOf(): { kind: 'unix' | 'serial'; path: string } {
  const transport = process.env[AGENT_TRANSPORT_ENV] ?? '';
  const kind = transport.startsWith('unix:/')
    ? 'unix'
    : transport.startsWith('serial:/')
      ? 'serial'
      : undefined;
  if (kind === undefined) {
    process.stderr.write(
      `nixspace-agent: ${AGENT_TRANSPORT_ENV} must be unix:<path> or serial:<path>, not "${transport}"\n`,
    );
    process.exit(2);
  }
  return { kind, path: transport.slice(kind.length + 1) };
}

const transport = transportOf();
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
    // Only a Unix socket's connection can be let go of (a box is saved next); a serial port stays.
    if (unixLink === undefined) {
      const refusal = JSON.stringify({
        error: { code: 'NOT_FOUND', message: 'this transport cannot detach' },
      });
      res.writeHead(404, {
        'content-type': 'application/json',
        'content-length': Buffer.byteLength(refusal),
      });
      res.end(refusal);
      return;
    }
    const link = unixLink;
    res.stream.once('close', () => link.detach());
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': 2 });
    res.end('{}');
    return;
  }
  void routes.then((route) => route(req, res));
}
const server = createServer({ settings: { initialWindowSize: windowBytes } }, handle);
server.on('session', (session) => session.setLocalWindowSize(windowBytes));

for (const signal of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) process.on(signal, () => process.exit(0));
const unixLink = transport.kind === 'unix' ? dialUnixSocket(transport.path, server) : undefined;
if (transport.kind === 'serial') serveOnSerialPort(transport.path, server);
