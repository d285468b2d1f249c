// Which workspace a command means: its id, a unique id prefix or its name, as `nixspace list`
// shows them. An ambiguous prefix or name lists the candidates instead of guessing.

import type { WorkspaceView } from '../services/workspaces/workspace-view.js';
import type { ServerClient } from './server-client.js';

export type Workspace = WorkspaceView;

export async function listWorkspaces(client: ServerClient): Promise<Workspace[]> {
  const { workspaces } = await client.call<{ workspaces: Workspace[] }>('GET', '/api/workspaces');
  return workspaces.filter((ws) => ws.status !== 'deleted');
}

export async function resolveWorkspace(client: ServerClient, target: string): Promise<Workspace> {
  const workspaces = await listWorkspaces(client);
  const exact = workspaces.find((ws) => ws.id === target);
  if (exact) return exact;
  const byName = workspaces.filter((ws) => ws.name === target);
  const matches = byName.length > 0 ? byName : workspaces.filter((ws) => ws.id.startsWith(target));
  if (matches.length === 1) return matches[0]!;
  if (matches.length === 0) {
    throw new Error(`no workspace ${target} on ${client.description} (see \`nixspace list\`)`);
  }
  const what = byName.length > 0 ? `the name ${target}` : `${target}`;
  throw new Error(
    `${what} matches ${matches.length} workspaces: give more of the id\n${matches.map((ws) => `  ${describeWorkspace(ws)}`).join('\n')}`,
  );
}

/** One line per workspace: id, status, name, where it is checked out, and when it is deleted. */
export function describeWorkspace(ws: Workspace): string {
  const expires = ws.lifetime?.expiresAt ? `  deleted at ${ws.lifetime.expiresAt}` : '';
  return `${ws.id}  ${ws.status.padEnd(10)}  ${ws.name}  ${checkedOut(ws)}${expires}`;
}

export function checkedOut(ws: Workspace): string {
  return `${ws.branch ?? 'detached'} @ ${ws.commit?.slice(0, 12) ?? '?'}`;
}
