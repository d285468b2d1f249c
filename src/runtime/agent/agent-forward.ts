// A host Unix socket, in a directory of the server's that no sandbox sees, whose every connection
// the workspace's agent carries on to a Unix socket inside the workspace (VS Code's). The server's
// proxies connect to the host end as to any local server; the box needs to share no socket with
// the host, so this works the same on every driver, and nothing on the host ever connects to (or
// links, or follows) a path the workspace could have swapped.
import { chmod, mkdir, rm } from 'node:fs/promises';
import { createServer, type Server, type Socket } from 'node:net';
import { dirname } from 'node:path';
import type { AgentLink } from './agent-link.js';

/** How long a connection waits for an agent that is redialling (a server restart, a reconnect). */
const agentWaitMs = 10_000;

export class AgentForward {
  readonly #server: Server;
  readonly #open = new Set<Socket>();

  private constructor(
    readonly hostPath: string,
    readonly target: string,
    readonly link: AgentLink,
  ) {
    // A caller that has said all it has to say may still read the answer.
    this.#server = createServer({ allowHalfOpen: true }, (socket) => void this.#carry(socket));
  }

  /** Listens on `hostPath` (root's alone: 0600 in a 0700 directory), forwarding to `target`. */
  static async listen(link: AgentLink, hostPath: string, target: string): Promise<AgentForward> {
    await mkdir(dirname(hostPath), { recursive: true, mode: 0o700 });
    await rm(hostPath, { force: true });
    const forward = new AgentForward(hostPath, target, link);
    await new Promise<void>((resolve, reject) => {
      forward.#server.once('error', reject);
      forward.#server.listen(hostPath, () => {
        forward.#server.off('error', reject);
        resolve();
      });
    });
    await chmod(hostPath, 0o600);
    return forward;
  }

  /** Stops listening and ends every connection it carries. */
  async close(): Promise<void> {
    for (const socket of this.#open) socket.destroy();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
    await rm(this.hostPath, { force: true });
  }

  async #carry(socket: Socket): Promise<void> {
    this.#open.add(socket);
    socket.once('close', () => this.#open.delete(socket));
    socket.on('error', () => socket.destroy());
    socket.pause();
    try {
      const client = await this.link.connected({ timeoutMs: agentWaitMs });
      const stream = await client.connect(this.target);
      if (socket.destroyed) {
        stream.destroy();
        return;
      }
      stream.on('error', () => socket.destroy());
      // Ended in order, the socket still writes out what it holds; reset, it goes at once.
      stream.once('close', () => (stream.rstCode === 0 ? socket.end() : socket.destroy()));
      socket.once('close', () => stream.destroy());
      socket.pipe(stream);
      stream.pipe(socket);
      socket.resume();
    } catch {
      // Nothing listens there (yet), or the agent is away: the caller sees the connection end.
      socket.destroy();
    }
  }
}
