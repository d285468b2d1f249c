// Finding a workspace's sandbox from the host, as an operator would, through /proc: the host pid
// of pid 1 of its pid namespace, and of its agent.
import { readFile } from 'node:fs/promises';
import { agentProgram } from '../../src/runtime/agent/agent-program.js';
import { pidsWithEnv } from '../../src/runtime/host/host-processes.js';

async function nsPids(pid: number): Promise<string[] | undefined> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8').catch(() => '');
  return /^NSpid:\s+(.*)$/m.exec(status)?.[1]?.trim().split(/\s+/);
}

/** pid 1 of the sandbox's pid namespace: the box's init (bwrap's reaper, or the agent itself). */
export async function sandboxInitPid(workspaceId: string): Promise<number> {
  for (const pid of await pidsWithEnv('NIXSPACE_WORKSPACE_ID', workspaceId)) {
    const nspid = await nsPids(pid);
    if (nspid && nspid.length > 1 && nspid.at(-1) === '1') return pid;
  }
  throw new Error(`no sandbox init found for workspace ${workspaceId}`);
}

/** The workspace agent: the process of the sandbox that runs the agent's program. */
export async function sandboxAgentPid(workspaceId: string): Promise<number> {
  const main = agentProgram().argv.at(-1);
  for (const pid of await pidsWithEnv('NIXSPACE_WORKSPACE_ID', workspaceId)) {
    const cmdline = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
    const argv = cmdline.split('\0');
    if (argv[0]?.endsWith('/node') && argv.includes(main ?? '') && ((await nsPids(pid))?.length ?? 0) > 1) {
      return pid;
    }
  }
  throw new Error(`no agent found for workspace ${workspaceId}`);
}
