// What the microVM suites share: a stand-in for the workspace agent (a small Node program the
// guest runs from the shared workspace), the server's end of the agent socket, and a sweep that
// kills any box QEMU a failed test left behind.
import { randomBytes } from 'node:crypto';
import { chmod, chown, mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { killQuietly } from '../../host/host-processes.js';
import type { SandboxUser } from '../../sandbox.js';
import type { MicrovmSpec } from './microvm-spec.js';
import { waitFor } from './wait-for.js';

/**
 * The stand-in agent: writes a file in its working directory (the workspace), says hello on its
 * stream, then answers `read PATH`, `stat PATH`, `write PATH` and `connect HOST:PORT`, and echoes any other line. A read of 0 bytes
 * means the host end is not connected (the guest's view of a server restart): it retries on the
 * same descriptor, where data flows again once QEMU has reconnected.
 */
export const echoAgentSource = `
import { existsSync, openSync, read, readFileSync, writeFileSync, writeSync } from 'node:fs';
import { connect } from 'node:net';
const transport = process.env.NIXSPACE_AGENT_TRANSPORT ?? '';
writeFileSync('written-by-guest.txt', 'from the guest\\n');
const fd = openSync(transport.replace(/^serial:/, ''), 'r+');
const send = (line) => writeSync(fd, line + '\\n');
send('hello uid=' + process.getuid() + ' gid=' + process.getgid() + ' transport=' + transport + ' cwd=' + process.cwd());
const answer = (line) => {
  const [word, path] = line.split(' ');
  if (word === 'read') {
    try { return line + ' ' + readFileSync(path, 'utf8').trim(); } catch (error) { return line + ' ' + error.code; }
  }
  if (word === 'stat') return line + ' ' + (existsSync(path) ? 'present' : 'absent');
  if (word === 'write') {
    try { writeFileSync(path, 'x'); return line + ' ok'; } catch (error) { return line + ' ' + error.code; }
  }
  if (word === 'connect') {
    const [host, port] = path.split(':');
    return new Promise((resolve) => {
      const socket = connect({ host, port: Number(port), timeout: 10000 });
      socket.once('connect', () => { socket.destroy(); resolve(line + ' ok'); });
      socket.once('timeout', () => { socket.destroy(); resolve(line + ' ETIMEDOUT'); });
      socket.once('error', (error) => resolve(line + ' ' + error.code));
    });
  }
  return line;
};
let pending = '';
const buffer = Buffer.alloc(65536);
const pump = () => read(fd, buffer, 0, buffer.length, null, (error, length) => {
  if (error || length === 0) return setTimeout(pump, 20);
  pending += buffer.toString('utf8', 0, length);
  for (let end = pending.indexOf('\\n'); end >= 0; end = pending.indexOf('\\n')) {
    Promise.resolve(answer(pending.slice(0, end))).then(send);
    pending = pending.slice(end + 1);
  }
  pump();
});
pump();
`;

export class AgentConnection {
  readonly lines: string[] = [];
  readonly socket: Socket;
  #partial = '';

  constructor(socket: Socket) {
    this.socket = socket;
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      const text = this.#partial + chunk;
      const parts = text.split('\n');
      this.#partial = parts.pop() ?? '';
      this.lines.push(...parts);
    });
    socket.on('error', () => undefined);
  }

  send(line: string): void {
    this.socket.write(`${line}\n`);
  }

  /** The first line (from the start of the connection) that matches. */
  line(pattern: RegExp, timeoutMs = 120_000): Promise<string> {
    return waitFor(async () => this.lines.find((line) => pattern.test(line)), {
      timeoutMs,
      what: `a line matching ${pattern} from the agent`,
      intervalMs: 20,
    });
  }

  /** Sends `line` and waits for the answer that starts with it. */
  async ask(line: string, timeoutMs = 60_000): Promise<string> {
    this.send(line);
    return this.line(new RegExp(`^${line.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}( |$)`), timeoutMs);
  }
}

/** The server's end: listens on `path`, reachable by the box's user only. */
export class AgentListener {
  readonly connections: AgentConnection[] = [];
  readonly #server: Server;

  private constructor(server: Server) {
    this.#server = server;
    server.on('connection', (socket) => this.connections.push(new AgentConnection(socket)));
  }

  static async listen(path: string, user: SandboxUser): Promise<AgentListener> {
    await rm(path, { force: true });
    const server = createServer();
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(path, resolve);
    });
    await chown(path, user.uid, user.gid);
    await chmod(path, 0o600);
    return new AgentListener(server);
  }

  /** The first connection whose agent has said hello (QEMU connects before the guest is up). */
  agent(timeoutMs = 120_000): Promise<AgentConnection> {
    return waitFor(
      async () => this.connections.find((c) => c.lines.some((line) => line.startsWith('hello'))),
      {
        timeoutMs,
        what: 'the agent to connect and say hello',
        intervalMs: 20,
      },
    );
  }

  /** The latest connection (after a reconnect, the agent says no new hello). */
  current(timeoutMs = 120_000): Promise<AgentConnection> {
    return waitFor(async () => this.connections.at(-1), {
      timeoutMs,
      what: 'QEMU to connect',
      intervalMs: 20,
    });
  }

  async close(): Promise<void> {
    for (const connection of this.connections) connection.socket.destroy();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }
}

/** Host pids of QEMU processes of the box `id` (by the -name it was given), recorded or not. */
export async function boxQemuPids(id: string): Promise<number[]> {
  const pids: number[] = [];
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const cmdline = await readFile(`/proc/${entry}/cmdline`, 'utf8').catch(() => '');
    if (cmdline.split('\0').includes(`nixspace-${id},process=nixspace-box-${id}`)) pids.push(Number(entry));
  }
  return pids;
}

export async function killBoxQemu(id: string): Promise<void> {
  for (const pid of await boxQemuPids(id)) killQuietly(pid);
}

/**
 * A fresh workspace under `root` with the stand-in agent in it, the server's end of its socket,
 * and a spec for both (256 MiB, one CPU, network none; `extra` overrides).
 */
export async function prepareEchoBox(
  root: string,
  name: string,
  user: SandboxUser,
  extra: Partial<MicrovmSpec> = {},
): Promise<{ spec: MicrovmSpec; listener: AgentListener }> {
  const id = `${name}-${randomBytes(4).toString('hex')}`;
  const workspaceDir = join(root, id, 'ws');
  const socketDir = join(root, id, 'sock');
  await mkdir(workspaceDir, { recursive: true });
  await mkdir(socketDir);
  await writeFile(join(workspaceDir, 'agent.mjs'), echoAgentSource);
  await chown(workspaceDir, user.uid, user.gid);
  await chown(socketDir, user.uid, user.gid);
  const agentSocket = join(socketDir, 'agent.sock');
  const listener = await AgentListener.listen(agentSocket, user);
  const spec: MicrovmSpec = {
    id,
    user,
    workspaceDir,
    network: 'none',
    limits: { memoryBytes: 256 * 1024 * 1024, cpus: 1 },
    init: ['/usr/bin/node', join(workspaceDir, 'agent.mjs')],
    agentDir: socketDir,
    agentSocket,
    ...extra,
  };
  return { spec, listener };
}
