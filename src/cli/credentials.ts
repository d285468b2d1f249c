// The sessions `nixspace login` keeps for servers reached by URL: one cookie per server origin in
// ~/.config/nixspace/credentials.json, readable by its owner only (0600, in a 0700 directory).

import { chmod, mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';

export interface StoredSession {
  /** The Cookie header that carries the session. */
  cookie: string;
  email: string;
  savedAt: string;
}

interface CredentialsFile {
  servers: Record<string, StoredSession>;
}

export function credentialsPath(env: NodeJS.ProcessEnv = process.env): string {
  const base = env.XDG_CONFIG_HOME || join(env.HOME || homedir(), '.config');
  return join(base, 'nixspace', 'credentials.json');
}

/** The key of a server: its origin, so `http://h:1/` and `http://h:1` are one server. */
export function serverKey(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new Error(`--server needs a URL such as http://127.0.0.1:7777, not ${JSON.stringify(url)}`);
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    throw new Error(`--server needs an http:// or https:// URL, not ${url}`);
  }
  return parsed.origin;
}

async function readAll(path: string): Promise<CredentialsFile> {
  try {
    const parsed = JSON.parse(await readFile(path, 'utf8')) as Partial<CredentialsFile>;
    return { servers: parsed.servers ?? {} };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { servers: {} };
    throw new Error(`cannot read ${path}: ${(error as Error).message}`);
  }
}

export async function loadSession(
  server: string,
  path = credentialsPath(),
): Promise<StoredSession | undefined> {
  return (await readAll(path)).servers[serverKey(server)];
}

/** Saves (or, with `undefined`, forgets) the session for a server. */
export async function saveSession(
  server: string,
  session: StoredSession | undefined,
  path = credentialsPath(),
): Promise<void> {
  const all = await readAll(path);
  if (session) all.servers[serverKey(server)] = session;
  else delete all.servers[serverKey(server)];
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  // Written beside and renamed, with its mode set before any secret is in it.
  const temporary = `${path}.${process.pid}.tmp`;
  await writeFile(temporary, '', { mode: 0o600 });
  await chmod(temporary, 0o600);
  await writeFile(temporary, `${JSON.stringify(all, null, 2)}\n`);
  await rename(temporary, path);
}
