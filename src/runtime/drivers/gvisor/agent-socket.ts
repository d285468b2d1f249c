// The host side of the agent's one byte stream: a directory per box (inside a root-only parent,
// such as <data>/run/agents) with the socket the server listens on (AgentLink.listen). The box
// sees the directory read-only at AGENT_DIR_INSIDE. It is root's and open to pass through; the
// sentry checks the workspace user's access against the socket's host owner and mode, so the
// socket alone is the box user's.
import { chmod, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { AGENT_SOCKET_NAME } from './box-spec.js';

/** Host path of the socket the server listens on for the box whose agentDir this is. */
export function agentSocketPath(agentDir: string): string {
  return join(agentDir, AGENT_SOCKET_NAME);
}

/** Creates the directory (if missing): root's, writable by root alone. */
export async function prepareAgentDir(agentDir: string): Promise<void> {
  await mkdir(agentDir, { recursive: true, mode: 0o755 });
  await chmod(agentDir, 0o755);
}
