// How a box runs nixspace-agent: this Node binary on the built agent, and the host paths the box
// must show read-only for it to load (the build, its node_modules, the package.json that makes
// them ES modules), each at its own path. Never the package directory whole: the default data
// directory lives inside it.
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { NixSpaceError } from '../../errors.js';

/** Where the box shows the server's socket directory, read-only; the agent dials the socket in it. */
export const AGENT_DIR_INSIDE = '/run/nixspace-agent';
export const AGENT_SOCKET_NAME = 'agent.sock';

export interface AgentProgram {
  argv: string[];
  readOnlyPaths: string[];
}

/** The package root: this file is at src/runtime/agent (tsx) or dist/runtime/agent (built). */
const packageRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

export function agentProgram(): AgentProgram {
  const main = join(packageRoot, 'dist', 'agent', 'main.js');
  if (!existsSync(main)) {
    throw new NixSpaceError(
      'SANDBOX_UNAVAILABLE',
      `the workspace agent is not built (${main} is missing): run npm run build`,
    );
  }
  const node = process.execPath;
  const paths = ['dist', 'node_modules', 'package.json'].map((name) => join(packageRoot, name));
  // A Node outside /usr (nvm's, say) must be shown too.
  if (!node.startsWith('/usr/')) paths.push(node);
  return { argv: [node, main], readOnlyPaths: paths };
}
