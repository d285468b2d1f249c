// What the gVisor suites share: a root-only scratch directory per suite with the boxes' state, a
// workspace per box owned by the test sandbox user, the agent socket the test listens on, and a
// teardown that destroys whatever a failed test left running.
import { randomBytes } from 'node:crypto';
import { chmod, chown, mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findExecutable } from '../../host/find-executable.js';
import { giveTree } from '../../host/give-tree.js';
import { delay } from '../../host/host-processes.js';
import { TEST_SANDBOX_USER } from '../../test-sandbox-user.js';
import { agentSocketPath, prepareAgentDir } from './agent-socket.js';
import type { GvisorBoxSpec } from './box-spec.js';
import { GvisorBoxes } from './gvisor-boxes.js';

/** Why the suites skip, or false when they can run. */
export const skipReason: string | false =
  findExecutable('runsc') === undefined
    ? 'runsc (gVisor) is not installed: apt-get install runsc'
    : process.getuid?.() !== 0
      ? 'runsc boxes need root (the gofer maps the workspace user)'
      : false;

/**
 * An agent stand-in: connects to the server's socket, echoes what it gets, and connects again
 * whenever the stream ends (after "close\n" only once a second has passed, long enough for the
 * server to checkpoint the box in between).
 */
export const echoAgent = [
  'python3',
  '-c',
  `
import os, socket, time
path = os.environ["NIXSPACE_AGENT_TRANSPORT"].removeprefix("unix:")
while True:
    pause = 0.05
    try:
        s = socket.socket(socket.AF_UNIX)
        s.connect(path)
        while True:
            data = s.recv(65536)
            if not data:
                break
            if data == b"close\\n":
                pause = 1.0
                break
            s.sendall(data)
        s.close()
    except OSError:
        pass
    time.sleep(pause)
`,
];

export interface TestKit {
  root: string;
  boxes: GvisorBoxes;
  /** A spec with a fresh workspace, agent directory and id (the caller sets init and limits). */
  spec(init: readonly string[], extra?: Partial<GvisorBoxSpec>): Promise<GvisorBoxSpec>;
  teardown(): Promise<void>;
}

export async function makeTestKit(name: string): Promise<TestKit> {
  const root = await mkdtemp(join(tmpdir(), `nixspace-gvisor-${name}-`));
  await chmod(root, 0o700);
  const stateDir = join(root, 'state');
  const boxes = new GvisorBoxes({ stateDir });
  return {
    root,
    boxes,
    async spec(init, extra) {
      const id = `${name}-${randomBytes(4).toString('hex')}`;
      const workspaceDir = join(root, 'workspaces', id);
      await mkdir(workspaceDir, { recursive: true });
      await giveTree(workspaceDir, TEST_SANDBOX_USER);
      return {
        id,
        user: TEST_SANDBOX_USER,
        workspaceDir,
        network: 'none',
        limits: {},
        // The suite's directory stands in for the data directory: only the workspace shows.
        hiddenPaths: [root],
        agentDir: join(root, 'agents', id),
        init,
        ...extra,
      };
    },
    async teardown() {
      const ids = new Set([...(await boxes.bundles()), ...(await boxes.list()).map((box) => box.id)]);
      for (const id of ids) await boxes.destroy(id).catch((error) => console.error(error));
      await rm(root, { recursive: true, force: true });
    },
  };
}

/** The server side of the agent's stream: connections in arrival order. */
export class AgentListener {
  readonly path: string;
  readonly #server: Server;
  readonly #waiting: ((socket: Socket) => void)[] = [];
  readonly #arrived: Socket[] = [];
  readonly #all = new Set<Socket>();

  private constructor(path: string, server: Server) {
    this.path = path;
    this.#server = server;
    server.on('connection', (socket) => {
      this.#all.add(socket);
      socket.once('close', () => this.#all.delete(socket));
      const waiter = this.#waiting.shift();
      if (waiter) waiter(socket);
      else this.#arrived.push(socket);
    });
  }

  /** Listens on the box's socket (replacing one a previous server left) and lets the box in. */
  static async listen(spec: GvisorBoxSpec): Promise<AgentListener> {
    const path = agentSocketPath(spec.agentDir);
    await prepareAgentDir(spec.agentDir);
    await rm(path, { force: true });
    const server = createServer();
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(path, () => resolve());
    });
    await chmod(path, 0o600);
    await chown(path, spec.user.uid, spec.user.gid);
    return new AgentListener(path, server);
  }

  next(timeoutMs = 20_000): Promise<Socket> {
    const ready = this.#arrived.shift();
    if (ready) return Promise.resolve(ready);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no agent connected to ${this.path}`)), timeoutMs);
      this.#waiting.push((socket) => {
        clearTimeout(timer);
        resolve(socket);
      });
    });
  }

  /** Stops listening and ends every connection (a server that goes away). */
  close(): Promise<void> {
    for (const socket of this.#all) socket.destroy();
    return new Promise((resolve) => this.#server.close(() => resolve()));
  }
}

/** Writes `text` and resolves with the first `text.length` bytes that come back. */
export function roundTrip(socket: Socket, text: string, timeoutMs = 10_000): Promise<string> {
  return new Promise((resolve, reject) => {
    let got = '';
    const timer = setTimeout(() => reject(new Error(`no echo of ${JSON.stringify(text)}`)), timeoutMs);
    const onData = (chunk: Buffer) => {
      got += chunk.toString();
      if (got.length >= text.length) {
        clearTimeout(timer);
        socket.off('data', onData);
        resolve(got);
      }
    };
    socket.on('data', onData);
    socket.write(text);
  });
}

/** Polls a file the box writes until `ready` accepts its content. */
export async function waitForFile(
  path: string,
  ready: (text: string) => boolean = () => true,
  timeoutMs = 20_000,
): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const text = await readFile(path, 'utf8').catch(() => undefined);
    if (text !== undefined && ready(text)) return text;
    if (Date.now() > deadline) throw new Error(`${path} not ready: ${JSON.stringify(text)}`);
    await delay(50);
  }
}
