// Each job in a sandbox runs in a command group (a cgroup) of its own: a cancel finds and kills
// every process it started, setsid'd or double-forked ones included, and nothing else.
import { randomBytes } from 'node:crypto';
import type { CommandGroup } from '../../../runtime/sandbox.js';
import type { CommandExit } from './execution-strategy.js';

export function jobGroupName(): string {
  return `job-${randomBytes(8).toString('hex')}`;
}

/** Settles as `ended` does, once the job's group is gone (what it left running stays in the sandbox). */
export async function releaseWhenDone(
  ended: Promise<CommandExit>,
  group: CommandGroup | undefined,
): Promise<CommandExit> {
  const exit = await ended;
  // A group that cannot go now (a process keeps forking into it) goes when the sandbox stops,
  // which removes its command groups with it; the job's end does not wait on it.
  await group?.release().catch(() => undefined);
  return exit;
}
