// The host side of the agent's one byte stream: a directory per box (inside a root-only parent,
// such as <data>/run/agents) with the socket the server listens on. The box sees the directory at
// AGENT_DIR_INSIDE; the sentry checks the workspace user's access against the host owner and mode,
// so the directory and the socket belong to the box's host user.
import { chmod, chown, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { SandboxUser } from '../../sandbox.js';
import { AGENT_SOCKET_NAME } from './box-spec.js';

/** Host path of the socket the server listens on for box `dir`. */
export function agentSocketPath(agentSocketDir: string): string {
  return join(agentSocketDir, AGENT_SOCKET_NAME);
}

/** Creates the directory (if missing) and hands it to the box's user, open to it alone. */
export async function prepareAgentSocketDir(agentSocketDir: string, user: SandboxUser): Promise<void> {
  await mkdir(agentSocketDir, { recursive: true, mode: 0o700 });
  await chown(agentSocketDir, user.uid, user.gid);
  await chmod(agentSocketDir, 0o700);
}

/**
 * Lets the box's init connect to a socket the server has just bound (call after each listen, a
 * restarted server's too): connecting needs write permission on the socket file.
 */
export async function allowAgentSocket(socketPath: string, user: SandboxUser): Promise<void> {
  await chown(socketPath, user.uid, user.gid);
  await chmod(socketPath, 0o600);
}
