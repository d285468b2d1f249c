// A job in a workspace is a process of the workspace agent's: the agent runs it in a cgroup of its
// own and keeps its output until the server has it, so the job runs on while the server restarts.
// This is what the stream and terminal strategies share: following the output by offset, the
// cancel, and letting go of a job (the server stopping) with where its output stood, from which a
// later server continues it (`resumeAgentJob`).
import { setTimeout as sleep } from 'node:timers/promises';
import { z } from 'zod';
import { NixSpaceError } from '../../../errors.js';
import { AgentProcess } from '../../../runtime/agent/agent-process.js';
import { type ProcessSet, terminateTree } from '../../../runtime/host/process-tree.js';
import type { CommandGroup, Sandbox } from '../../../runtime/sandbox.js';
import type { AgentOutputStream, ProcessExit, SpawnRequest } from '../../../wire/agent.js';
import type { CommandExit, RunningCommand } from './execution-strategy.js';
import { releaseWhenDone } from './job-group.js';

/** Output the agent holds for a job before the job waits for the server to take it. */
const KEPT_OUTPUT_BYTES = 8 << 20;
/** How long a cancelled job's output may stay open after its process ended. */
const DRAIN_MS = 300;

/** Where a job's output stood when the server let go of it: enough for the next to continue. */
export const agentJobResume = z.object({
  process: z.string(),
  group: z.string(),
  offsets: z.object({
    stdout: z.number().int().min(0).optional(),
    stderr: z.number().int().min(0).optional(),
  }),
  /** The terminal strategy's done-marker nonce. */
  nonce: z.string().optional(),
});
export type AgentJobResume = z.infer<typeof agentJobResume>;

export interface AgentRunningCommand extends RunningCommand {
  /** Stops following (the job runs on in the agent) and says where its output stood. */
  release(): AgentJobResume;
}

export interface AgentJobHooks {
  streams: readonly AgentOutputStream[];
  /** Turns the agent's bytes into the job's output (the terminal strategy strips its marker). */
  onData(stream: AgentOutputStream, data: Buffer, process: AgentProcess): void;
  /** Called once when a stream has ended, for what a filter still holds. */
  onEnd?(stream: AgentOutputStream): void;
  toExit(exit: ProcessExit): CommandExit;
  nonce?: string;
}

export async function startAgentJob(
  sandbox: Sandbox,
  request: Omit<SpawnRequest, 'output' | 'group'> & { group: string },
  hooks: AgentJobHooks,
): Promise<AgentRunningCommand> {
  let process: AgentProcess;
  try {
    process = await AgentProcess.spawn(sandbox.agent, {
      ...request,
      output: { mode: 'keep', bytes: KEPT_OUTPUT_BYTES },
    });
  } catch (error) {
    // Nothing ran in the group made for it; an empty group that stays would be a leak.
    await sandbox
      .commandGroup(request.group)
      ?.release()
      .catch(() => undefined);
    throw new NixSpaceError('JOB_START_FAILED', `Cannot start the command: ${(error as Error).message}`);
  }
  return follow(sandbox, process, request.group, {}, hooks);
}

/** The job the agent still runs for a server that restarted, continued where its output stood. */
export async function resumeAgentJob(
  sandbox: Sandbox,
  resume: AgentJobResume,
  hooks: AgentJobHooks,
): Promise<AgentRunningCommand | undefined> {
  const client = await sandbox.agent.connected({ timeoutMs: 10_000 });
  const info = (await client.list()).find((p) => p.id === resume.process);
  if (info === undefined) return undefined;
  return follow(sandbox, AgentProcess.adopt(sandbox.agent, info), resume.group, resume.offsets, hooks);
}

function follow(
  sandbox: Sandbox,
  process: AgentProcess,
  group: string,
  from: Partial<Record<AgentOutputStream, number>>,
  hooks: AgentJobHooks,
): AgentRunningCommand {
  const positions: Partial<Record<AgentOutputStream, number>> = {};
  const following = hooks.streams.map((stream) => {
    positions[stream] = from[stream] ?? 0;
    const handle = process.follow(stream, positions[stream]!, (data, offset) => {
      hooks.onData(stream, data, process);
      positions[stream] = offset + data.length;
      // The job's log has it: the agent need not keep it.
      process.ack(stream, positions[stream]!);
    });
    return { stream, handle };
  });
  let cancelled = false;
  let released = false;
  const exited = process.exited.then((exit) => {
    if (process.lost) return { exitCode: null, signal: 'SIGKILL' } satisfies CommandExit;
    return hooks.toExit(exit);
  });
  const outputDone = Promise.all(
    following.map(({ stream, handle }) => handle.done.then(() => released || hooks.onEnd?.(stream))),
  );
  const ended = exited.then(async (exit) => {
    // Let go of (the server stopping): the job is the next server's to finish.
    if (released) return new Promise<CommandExit>(() => {});
    // After a cancel, a process out of reach may still hold the output open: what matters has
    // arrived by now.
    await Promise.race([outputDone, cancelled ? sleep(DRAIN_MS) : new Promise(() => {})]);
    for (const { handle } of following) handle.stop();
    if (!released) await process.forget().catch(() => undefined);
    return exit;
  });
  const cgroup = sandbox.commandGroup(group);
  const done = releaseWhenDone(ended, cgroup);
  const cancel = async (graceMs: number): Promise<string[]> => {
    cancelled = true;
    if (cgroup) return terminateTree(cgroupMembers(cgroup), { graceMs, exited });
    // No cgroup on this host: the agent signals the job's process group.
    await process.signal('SIGTERM');
    const gone = await Promise.race([exited.then(() => true), sleep(graceMs).then(() => false)]);
    if (gone) return ['SIGTERM sent to its process group; it exited within the grace period'];
    await process.signal('SIGKILL');
    return ['SIGTERM sent to its process group', 'SIGKILL sent after the grace period'];
  };
  const release = (): AgentJobResume => {
    released = true;
    for (const { handle } of following) handle.stop();
    return {
      process: process.id,
      group,
      offsets: { ...positions },
      ...(hooks.nonce ? { nonce: hooks.nonce } : {}),
    };
  };
  return { done, cancel, release };
}

function cgroupMembers(group: CommandGroup): ProcessSet {
  return { members: () => group.pids(), killAll: () => group.kill() };
}
