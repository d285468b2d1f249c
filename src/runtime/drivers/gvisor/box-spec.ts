// What a gVisor workspace box is made from: a sandbox spec (the same one every driver takes, whose
// agentDir holds the Unix socket the server listens on for the agent) plus the argv of the box's
// first process, the workspace agent.
import { isAbsolute } from 'node:path';
import { NixSpaceError } from '../../../errors.js';
import { AGENT_DIR_INSIDE, AGENT_SOCKET_NAME } from '../../agent/agent-program.js';
import type { SandboxSpec } from '../../sandbox.js';
import { assertSandboxUser } from '../bubblewrap/workspace-user.js';

export interface GvisorBoxSpec extends SandboxSpec {
  /**
   * argv of the box's first process (the agent); it runs as the workspace user inside, and learns
   * the socket's path (agentDir, shown read-only at AGENT_DIR_INSIDE) from NIXSPACE_AGENT_TRANSPORT.
   */
  init: readonly string[];
}

export { AGENT_TRANSPORT_ENV } from '../../../wire/agent.js';
export { AGENT_DIR_INSIDE, AGENT_SOCKET_NAME };
/** What the init is told (in AGENT_TRANSPORT_ENV) to reach the server by. */
export const AGENT_TRANSPORT = `unix:${AGENT_DIR_INSIDE}/${AGENT_SOCKET_NAME}`;

/** Box ids name a runsc container, a bundle directory and a cgroup: keep them plain. */
const idPattern = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/;

export function assertBoxId(id: string): void {
  if (!idPattern.test(id)) {
    throw new NixSpaceError('BAD_REQUEST', `a box id must be letters, digits, '.', '_' or '-': ${id}`);
  }
}

export function assertBoxSpec(spec: GvisorBoxSpec): void {
  assertBoxId(spec.id);
  assertSandboxUser(spec.user);
  if (spec.init.length === 0) throw new NixSpaceError('BAD_REQUEST', `box ${spec.id} has no init argv`);
  const paths: [string, string | undefined][] = [
    ['workspaceDir', spec.workspaceDir],
    ['runtimeDir', spec.runtimeDir],
    ['agentDir', spec.agentDir],
    ...(spec.readOnlyPaths ?? []).map((path): [string, string] => ['readOnlyPaths', path]),
    ...(spec.hiddenPaths ?? []).map((path): [string, string] => ['hiddenPaths', path]),
  ];
  for (const [name, path] of paths) {
    if (path !== undefined && (!isAbsolute(path) || path.includes('\0') || path === '/')) {
      throw new NixSpaceError('BAD_REQUEST', `box ${spec.id}: ${name} must be an absolute path: ${path}`);
    }
  }
}
