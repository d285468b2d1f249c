// A real nixspace-agent process on the host, dialling a link: the protocol's tests run it without
// a sandbox (the drivers' suites run it inside one). It is killed with SIGKILL by `kill()`.
import { type ChildProcess, spawn } from 'node:child_process';
import { AGENT_TRANSPORT_ENV } from '../../wire/agent.js';
import type { AgentLink } from './agent-link.js';

const agentMain = new URL('../../agent/main.ts', import.meta.url).pathname;

/** Starts the agent on `link`'s socket and resolves once it has greeted. */
export async function startAgentOnHost(link: AgentLink): Promise<ChildProcess> {
  const agent = spawn(process.execPath, ['--import', 'tsx', agentMain], {
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', [AGENT_TRANSPORT_ENV]: `unix:${link.socketPath}` },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  try {
    await link.connected();
  } catch (error) {
    agent.kill('SIGKILL');
    throw error;
  }
  return agent;
}
