// A real NixSpace server on a random loopback port for API and end-to-end tests: its own data
// directory, the database backend under test, the real bubblewrap driver.

import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import WebSocket from 'ws';
import { type ConfigInput, parseConfig } from '../../src/config.js';
import { type NixSpace, startNixSpace } from '../../src/nixspace.js';
import { endSandboxesUnder } from './leftover-sandboxes.js';
import { unmountUnder } from './mounts.js';

export interface TestServer {
  nixspace: NixSpace;
  url: string;
  dataDir: string;
  /** Cookie header of a signed-in owner session. */
  cookie: string;
  /** Fetches a path of the server as the signed-in owner (JSON in, JSON out). */
  api<T = unknown>(
    path: string,
    init?: { method?: string; body?: unknown; cookie?: string | null },
  ): Promise<{ status: number; body: T }>;
  graphql<T = unknown>(
    query: string,
    variables?: Record<string, unknown>,
    cookie?: string | null,
  ): Promise<{ data?: T; errors?: { message: string; extensions?: { code?: string } }[] }>;
  /** Restarts the server on the same data directory and database. */
  restart(): Promise<void>;
  close(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

export async function startTestServer(
  options: {
    databaseUrl?: string | undefined;
    config?: Partial<ConfigInput>;
    /**
     * Where the data directory goes. A sandbox mounts a fresh /tmp, which hides a data directory
     * under it by accident: tests of what a sandbox must not see put it elsewhere (/var/tmp).
     */
    dataDirParent?: string;
  } = {},
): Promise<TestServer> {
  const dataDir = await mkdtemp(join(options.dataDirParent ?? tmpdir(), 'nixspace-test-'));
  const config = parseConfig({
    host: '127.0.0.1',
    port: 0,
    dataDir,
    databaseUrl: options.databaseUrl,
    logLevel: 'silent',
    // Most suites test the flow, not Nix: the host provider keeps them fast and deterministic.
    environmentProvider: 'host',
    // Each workspace gets a 1 GiB volume: sparse, made in milliseconds, costing the host only what is written.
    limits: { memory: 1024 ** 3, cpus: 2, pids: 1024, disk: 1024 ** 3 },
    git: { timeoutMs: 5000, maxRepoBytes: 64 * 1024 * 1024 },
    // code-server costs a second of CPU per workspace: only the IDE suites turn it on.
    ide: { enabled: false },
    // Releases fetched from the npm registry are shared by every test server of the machine.
    ...(process.env.NIXSPACE_TOOLCHAINS_DIR
      ? { toolchains: { dir: process.env.NIXSPACE_TOOLCHAINS_DIR } }
      : {}),
    ...options.config,
  } as ConfigInput);
  const logger = pino({ level: process.env.NIXSPACE_TEST_LOG ?? 'silent' });
  let nixspace = await startNixSpace(config, { logger });
  const server: TestServer = {
    nixspace,
    url: nixspace.url,
    dataDir,
    cookie: '',
    async api(path, init = {}) {
      const cookie = init.cookie === undefined ? server.cookie : init.cookie;
      const response = await fetch(`${server.url}${path}`, {
        method: init.method ?? 'GET',
        headers: {
          ...(cookie ? { cookie } : {}),
          ...(init.body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
      });
      const text = await response.text();
      return { status: response.status, body: (text ? JSON.parse(text) : undefined) as never };
    },
    async graphql(query, variables = {}, cookie) {
      const c = cookie === undefined ? server.cookie : cookie;
      const response = await fetch(`${server.url}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(c ? { cookie: c } : {}) },
        body: JSON.stringify({ query, variables }),
      });
      return (await response.json()) as never;
    },
    async restart() {
      await nixspace.close();
      nixspace = await startNixSpace(
        { ...config, port: new URL(server.url).port ? Number(new URL(server.url).port) : 0 },
        { logger },
      );
      server.nixspace = nixspace;
    },
    async close() {
      try {
        await nixspace.close();
      } finally {
        // Running workspaces outlive the server; none may outlive the test.
        await endSandboxesUnder(dataDir);
        // Workspace volumes are host mounts: none may outlive the test, whatever went wrong.
        await unmountUnder(dataDir);
        await rm(dataDir, { recursive: true, force: true });
      }
    },
    [Symbol.asyncDispose]() {
      return server.close();
    },
  };
  server.cookie = await signIn(server.url, await nixspace.ownerLoginLink());
  return server;
}

/** Follows a sign-in link like a browser and returns the session cookie it sets. */
export async function signIn(baseUrl: string, link: string): Promise<string> {
  const response = await fetch(link, { redirect: 'manual' });
  const setCookie = response.headers.get('set-cookie');
  if (response.status !== 303 || !setCookie)
    throw new Error(`sign-in failed: ${response.status} ${response.headers.get('location')}`);
  void baseUrl;
  return setCookie.split(';')[0]!;
}

/**
 * Another person on the same server: a new account, signed in through its own link, whose `api`
 * and `cookie` act as that person (the rest is the server's).
 */
export async function asAnotherUser(server: TestServer, email: string): Promise<TestServer> {
  const user = await server.nixspace.access.createUser(email);
  const link = await server.nixspace.access.createLoginLink(user.id);
  const cookie = await signIn(server.url, `${server.url}/auth/link?token=${link.token}`);
  return { ...server, cookie, api: (path, init = {}) => server.api(path, { cookie, ...init }) };
}

/** Waits until the workspace reaches one of the statuses (by polling the REST API). */
export async function waitForStatus(
  server: TestServer,
  id: string,
  statuses: string[],
  timeoutMs = 30_000,
): Promise<Record<string, unknown> & { status: string }> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { body } = await server.api<Record<string, unknown> & { status: string }>(`/api/workspaces/${id}`);
    if (statuses.includes(body.status)) return body;
    if (Date.now() > deadline)
      throw new Error(`workspace ${id} stayed ${body.status}: ${JSON.stringify(body)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/**
 * Creates a workspace through the API and resolves with its view once it runs; a workspace that
 * fails instead fails the test with its steps.
 */
export async function createAndWaitRunning<T = Record<string, unknown> & { status: string }>(
  server: TestServer,
  repoUrl: string,
  timeoutMs = 60_000,
): Promise<T> {
  const created = await server.api<{ id: string }>('/api/workspaces', { method: 'POST', body: { repoUrl } });
  assert.equal(created.status, 201, JSON.stringify(created.body));
  const done = await waitForStatus(server, created.body.id, ['running', 'failed'], timeoutMs);
  assert.equal(done.status, 'running', JSON.stringify(done.steps));
  return done as T;
}

/** Creates a workspace through the API and resolves with its id once it runs. */
export async function createRunningWorkspace(server: TestServer, repoUrl: string): Promise<string> {
  return (await createAndWaitRunning<{ id: string }>(server, repoUrl)).id;
}

/**
 * Opens a terminal (a given shell, or a new one) once the server has said hello on it, kept in
 * `open` for the suite's teardown to close.
 */
export async function openShell(
  server: TestServer,
  id: string,
  open: TerminalClient[],
  terminalId?: string,
): Promise<TerminalClient> {
  const client = await openTerminal(server, id, terminalId ? { terminal: terminalId } : {});
  open.push(client);
  await client.waitFor((t) => t.messages.some((m) => m.type === 'hello'));
  return client;
}

/** A terminal client over the real WebSocket: collects output, sends keystrokes. */
export async function openTerminal(
  server: TestServer,
  id: string,
  options: { terminal?: string; cookie?: string | null } = {},
): Promise<TerminalClient> {
  const cookie = options.cookie === undefined ? server.cookie : options.cookie;
  const url = new URL(`${server.url.replace('http', 'ws')}/api/workspaces/${id}/terminal`);
  url.searchParams.set('cols', '120');
  url.searchParams.set('rows', '30');
  if (options.terminal) url.searchParams.set('terminal', options.terminal);
  const socket = new WebSocket(url, { headers: cookie ? { cookie } : {} });
  const client = new TerminalClient(socket);
  await client.opened;
  return client;
}

export class TerminalClient {
  output = '';
  readonly messages: Record<string, unknown>[] = [];
  closeCode: number | undefined;
  readonly opened: Promise<void>;
  readonly closed: Promise<number>;
  private waiters: (() => void)[] = [];

  constructor(readonly socket: WebSocket) {
    this.opened = new Promise((resolve, reject) => {
      socket.once('open', () => resolve());
      socket.once('error', reject);
    });
    this.closed = new Promise((resolve) =>
      socket.once('close', (code) => {
        this.closeCode = code;
        this.notify();
        resolve(code);
      }),
    );
    socket.on('message', (data: Buffer, isBinary) => {
      if (isBinary) this.output += data.toString('utf8');
      else this.messages.push(JSON.parse(data.toString('utf8')) as Record<string, unknown>);
      this.notify();
    });
  }

  type(text: string): void {
    this.socket.send(Buffer.from(text, 'utf8'), { binary: true });
  }

  async waitFor(predicate: (client: TerminalClient) => boolean, timeoutMs = 10_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!predicate(this)) {
      if (Date.now() > deadline)
        throw new Error(
          `timed out; terminal output so far:\n${this.output}\nmessages: ${JSON.stringify(this.messages)}`,
        );
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 100);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  close(): void {
    this.socket.close();
  }

  private notify(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w();
  }
}
