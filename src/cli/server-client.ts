// How every CLI command talks to a running NixSpace: found through the admin socket of a data
// directory (signed in as the owner with a one-time link, signed out when done) or by URL with
// the session `nixspace login` stored. Requests go to the same REST and WebSocket API as the UI.

import { resolve } from 'node:path';
import type WebSocket from 'ws';
import { requestLoginLink } from '../admin-socket.js';
import { dataDirFromEnv } from '../default-dirs.js';
import { loadSession, serverKey } from './credentials.js';

/** The parseArgs options every command that talks to a server takes. */
export const serverOptions = {
  'data-dir': { type: 'string' },
  server: { type: 'string' },
} as const;

export interface ServerChoice {
  'data-dir'?: string | undefined;
  server?: string | undefined;
}

/** An error the server answered, in its one body shape. */
export class ServerError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly detail?: string,
  ) {
    super(`${code}: ${message}${detail ? `\n${indent(detail)}` : ''}`);
    this.name = 'ServerError';
  }
}

export function indent(text: string, prefix = '  '): string {
  return text
    .split('\n')
    .map((line) => `${prefix}${line}`)
    .join('\n');
}

export class ServerClient {
  private constructor(
    readonly base: string,
    private readonly cookie: string,
    /** Where the server was found, for messages: "http://… (data directory …)". */
    readonly description: string,
    private readonly ephemeral: boolean,
  ) {}

  /** `--server` (or NIXSPACE_SERVER) wins over a data directory; a flag wins over the environment. */
  static async connect(choice: ServerChoice, env: NodeJS.ProcessEnv = process.env): Promise<ServerClient> {
    const server = choice.server ?? (choice['data-dir'] ? undefined : env.NIXSPACE_SERVER || undefined);
    if (server) return ServerClient.byUrl(server);
    const dataDir = resolve(choice['data-dir'] ?? dataDirFromEnv(env));
    return ServerClient.byDataDir(dataDir);
  }

  private static async byDataDir(dataDir: string): Promise<ServerClient> {
    const link = await requestLoginLink(dataDir);
    if (!link) {
      throw new Error(
        `no NixSpace server is running with data directory ${dataDir}: start one with \`nixspace serve\`, or pass --server URL`,
      );
    }
    const cookie = await redeemLink(link);
    const base = new URL(link).origin;
    return new ServerClient(base, cookie, `${base} (data directory ${dataDir})`, true);
  }

  private static async byUrl(url: string): Promise<ServerClient> {
    const base = serverKey(url);
    const session = await loadSession(base);
    if (!session) {
      throw new Error(`not signed in to ${base}: run \`nixspace login --server ${base}\` first`);
    }
    return new ServerClient(base, session.cookie, base, false);
  }

  async call<T>(method: string, path: string, body?: unknown): Promise<T> {
    let response: Response;
    try {
      response = await fetch(`${this.base}${path}`, {
        method,
        headers: {
          cookie: this.cookie,
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
    } catch (error) {
      throw unreachable(this.base, error);
    }
    const text = await response.text();
    let parsed: unknown;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      throw new Error(`${this.base} answered ${response.status} with something that is not NixSpace's API`);
    }
    if (response.ok) return parsed as T;
    const error = parsed as { code?: string; message?: string; detail?: string } | undefined;
    if (response.status === 401 && !this.ephemeral) {
      throw new Error(
        `the session for ${this.base} is no longer valid: run \`nixspace login --server ${this.base}\` again`,
      );
    }
    if (!error?.code || !error.message) throw new Error(`${this.base} answered ${response.status}`);
    throw new ServerError(error.code, error.message, error.detail);
  }

  /** A WebSocket to a path of the API, carrying the session (ws loads only for the commands that need it). */
  async socket(path: string): Promise<WebSocket> {
    const { default: WebSocket } = await import('ws');
    return new WebSocket(`${this.base.replace(/^http/, 'ws')}${path}`, { headers: { cookie: this.cookie } });
  }

  /** The page of a workspace in the UI. */
  workspaceUrl(id: string): string {
    return `${this.base}/w/${id}`;
  }

  /** Ends the session the client opened for itself; a stored session stays. */
  async close(): Promise<void> {
    if (!this.ephemeral) return;
    // The session was made for this one command; if signing out fails it expires on its own.
    await fetch(`${this.base}/api/auth/logout`, { method: 'POST', headers: { cookie: this.cookie } }).catch(
      () => undefined,
    );
  }
}

/** Runs a command against the chosen server, closing what the client opened afterwards. */
export async function withServer<T>(
  choice: ServerChoice,
  fn: (client: ServerClient) => Promise<T>,
): Promise<T> {
  const client = await ServerClient.connect(choice);
  try {
    return await fn(client);
  } finally {
    await client.close();
  }
}

/** Spends a one-time sign-in link as a browser would and returns the session's Cookie header. */
export async function redeemLink(link: string): Promise<string> {
  let response: Response;
  try {
    response = await fetch(link, { redirect: 'manual' });
  } catch (error) {
    throw unreachable(new URL(link).origin, error);
  }
  const cookie = response.headers.get('set-cookie')?.split(';')[0];
  if (response.status !== 303 || !cookie?.startsWith('nixspace_session=')) {
    throw new Error(
      response.headers.get('location')?.includes('signin=invalid')
        ? 'the sign-in link is not valid: it was used already or has expired; get a new one with `nixspace login-link`'
        : `${new URL(link).origin} did not accept the sign-in link (${response.status})`,
    );
  }
  return cookie;
}

function unreachable(base: string, error: unknown): Error {
  const cause = (error as { cause?: { code?: string; message?: string } }).cause;
  return new Error(
    `no NixSpace server answers at ${base} (${cause?.code ?? cause?.message ?? (error as Error).message}): start one with \`nixspace serve\`, or check --server`,
  );
}
