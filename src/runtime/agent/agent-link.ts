// The server's end of one workspace's agent connection: a Unix socket in a directory of the
// server's that only this workspace's box is shown, on which its agent dials in, again after every
// server restart. Whatever connects there speaks for that workspace and nothing else; the newest
// connection that greets correctly is the agent. Over a stream that outlives its ends (a microVM's
// virtio-serial port, `greeting: true`) each connection first exchanges a fresh greeting
// (link-greeting.ts) so that nothing written for an earlier server reaches this one.
import { EventEmitter } from 'node:events';
import { chmod, chown, mkdir, rm } from 'node:fs/promises';
import { type ClientHttp2Session, connect as http2Connect } from 'node:http2';
import { createServer, type Server, type Socket } from 'node:net';
import { dirname } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { NixSpaceError } from '../../errors.js';
import type { SandboxUser } from '../sandbox.js';
import { AgentClient, agentSessionOptions } from './agent-client.js';
import { greetAgent } from './link-greeting.js';

export interface AgentLinkOptions {
  /** The stream may carry bytes of an earlier connection: open each one with a greeting. */
  greeting?: boolean;
}

/** How long a greeting may take before the connection is dropped. */
const helloTimeoutMs = 10_000;
/** How long a connection over a stream with a past waits for the agent's answer before it is dropped. */
const answerTimeoutMs = 15_000;

export class AgentLink {
  readonly #server: Server;
  readonly #events = new EventEmitter();
  readonly #greeting: boolean;
  /** Connections whose agent has not answered the greeting yet. */
  readonly #waiting = new Set<Socket>();
  #client: AgentClient | undefined;
  #closed = false;

  private constructor(
    readonly socketPath: string,
    server: Server,
    options: AgentLinkOptions,
  ) {
    this.#server = server;
    this.#greeting = options.greeting === true;
    this.#events.setMaxListeners(0);
    server.on('connection', (socket) => void this.#accept(socket));
  }

  /**
   * Listens on `socketPath` (replacing a stale socket); only `user` (and root) may connect. Its
   * directory is the server's: open to pass through, writable by root alone.
   */
  static async listen(
    socketPath: string,
    user: SandboxUser | undefined,
    options: AgentLinkOptions = {},
  ): Promise<AgentLink> {
    await mkdir(dirname(socketPath), { recursive: true });
    await chmod(dirname(socketPath), 0o755);
    await rm(socketPath, { force: true });
    // Taking connections from the first moment: an agent may dial the instant the socket exists.
    const link = new AgentLink(socketPath, createServer(), options);
    await new Promise<void>((resolve, reject) => {
      link.#server.once('error', reject);
      link.#server.listen(socketPath, () => {
        link.#server.off('error', reject);
        resolve();
      });
    });
    await chmod(socketPath, 0o600);
    if (user !== undefined && process.getuid?.() === 0) await chown(socketPath, user.uid, user.gid);
    return link;
  }

  /** The agent as it is connected now, if it is. */
  get client(): AgentClient | undefined {
    return this.#client;
  }

  /** Resolves with the connected agent, waiting for it to (re)connect; rejects on timeout or abort. */
  async connected(options: { timeoutMs?: number; signal?: AbortSignal } = {}): Promise<AgentClient> {
    if (this.#client && !this.#client.closed) return this.#client;
    if (this.#closed) throw new NixSpaceError('SANDBOX_FAILED', 'the agent connection is closed');
    const timeoutMs = options.timeoutMs ?? 30_000;
    return new Promise<AgentClient>((resolve, reject) => {
      const done = (error?: unknown, client?: AgentClient) => {
        clearTimeout(timer);
        this.#events.off('connected', onConnected);
        this.#events.off('closed', onClosed);
        options.signal?.removeEventListener('abort', onAbort);
        if (client) resolve(client);
        else reject(error);
      };
      const onConnected = (client: AgentClient) => done(undefined, client);
      const onClosed = () => done(new NixSpaceError('SANDBOX_FAILED', 'the agent connection is closed'));
      const onAbort = () => done(options.signal?.reason);
      const timer = setTimeout(
        () =>
          done(
            new NixSpaceError('SANDBOX_FAILED', `the workspace agent did not connect within ${timeoutMs} ms`),
          ),
        timeoutMs,
      );
      this.#events.on('connected', onConnected);
      this.#events.once('closed', onClosed);
      options.signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  /** Called with each newly connected agent (a reconnect, or a restarted agent: see its bootId). */
  onConnected(listener: (client: AgentClient) => void): () => void {
    this.#events.on('connected', listener);
    return () => this.#events.off('connected', listener);
  }

  /**
   * Lets the agent go before its box is saved, and closes the link: no new connection is taken
   * (the socket goes first), the agent is asked to drop its own, and this resolves once it has
   * (its end closed, not just half-closed: the box then holds no connection to the host). The
   * agent dials again soon, and finds whichever link listens next on this path.
   */
  async detach(options: { timeoutMs?: number } = {}): Promise<void> {
    if (this.#closed) throw new NixSpaceError('SANDBOX_FAILED', 'the agent connection is closed');
    this.#server.close();
    await rm(this.socketPath, { force: true });
    const client = this.#client;
    try {
      if (client === undefined || client.closed) return;
      const dropped = new Promise<void>((resolve) => client.session.once('close', () => resolve()));
      const timeoutMs = options.timeoutMs ?? 10_000;
      let timer: NodeJS.Timeout | undefined;
      const late = new Promise<never>((_, reject) => {
        timer = setTimeout(
          () =>
            reject(
              new NixSpaceError(
                'SANDBOX_FAILED',
                `the workspace agent did not let go within ${timeoutMs} ms`,
              ),
            ),
          timeoutMs,
        );
      });
      // The answer may be lost with the connection; an agent that refuses (an older one) says so.
      const asked = client.detach().catch(async (error: unknown) => {
        await Promise.race([dropped, sleep(100)]);
        if (!client.closed) throw error;
      });
      try {
        await Promise.race([Promise.all([asked, dropped]), late]);
      } finally {
        clearTimeout(timer);
      }
    } finally {
      await this.close();
    }
  }

  /** Stops listening and drops the connection; the agent keeps dialling until its box ends. */
  async close(options: { removeSocket?: boolean } = {}): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#events.emit('closed');
    this.#client?.close();
    for (const socket of this.#waiting) socket.destroy();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
    if (options.removeSocket !== false) await rm(this.socketPath, { force: true });
  }

  async #accept(socket: Socket): Promise<void> {
    if (this.#closed) {
      socket.destroy();
      return;
    }
    if (this.#greeting) {
      this.#waiting.add(socket);
      try {
        await greetAgent(socket, answerTimeoutMs);
      } catch {
        socket.destroy();
        return;
      } finally {
        this.#waiting.delete(socket);
      }
      if (this.#closed) {
        socket.destroy();
        return;
      }
    }
    let session: ClientHttp2Session;
    try {
      session = http2Connect('http://agent', { ...agentSessionOptions, createConnection: () => socket });
    } catch {
      socket.destroy();
      return;
    }
    session.on('error', () => undefined);
    try {
      const client = await AgentClient.greet(session, helloTimeoutMs);
      if (this.#closed) {
        client.close();
        return;
      }
      const previous = this.#client;
      this.#client = client;
      previous?.close();
      this.#events.emit('connected', client);
    } catch {
      session.destroy();
    }
  }
}
