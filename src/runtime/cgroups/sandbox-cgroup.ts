// One sandbox's cgroups: a directory per hierarchy under `nixspace/<id>`. Processes join by writing
// their own pid into each cgroup.procs before exec (see `joinScript`), so nothing they start can
// escape the limits or the final kill.
import { existsSync } from 'node:fs';
import { chown, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { NixSpaceError } from '../../errors.js';
import { shellQuote } from '../host/shell-quote.js';
import type { SandboxLimits } from '../sandbox.js';
import { type Hierarchy, prepareParent, releaseParent } from './cgroup-hierarchies.js';
import { childDirs, type Group, killMembers, memberPids, removeGroupDir } from './cgroup-members.js';
import { CommandCgroup } from './command-cgroup.js';

const cfsPeriodUs = 100_000;

export class SandboxCgroup {
  readonly id: string;
  readonly #groups: readonly Group[];

  constructor(id: string, hierarchies: readonly Hierarchy[]) {
    this.id = id;
    this.#groups = hierarchies.map((hierarchy) => ({ hierarchy, dir: join(hierarchy.parent, id) }));
  }

  get dirs(): readonly string[] {
    return this.#groups.map((group) => group.dir);
  }

  exists(): boolean {
    return this.#groups.some((group) => existsSync(group.dir));
  }

  /** Creates the groups and writes the limits; refuses a group that still has processes. */
  async create(limits: SandboxLimits): Promise<void> {
    try {
      for (const { hierarchy, dir } of this.#groups) {
        await prepareParent(hierarchy);
        await mkdir(dir, { recursive: true });
      }
    } catch (error) {
      throw new NixSpaceError('SANDBOX_FAILED', `cannot create the cgroups of sandbox ${this.id}`, {
        detail: String(error),
        cause: error,
      });
    }
    if ((await this.pids()).length > 0) {
      throw new NixSpaceError('CONFLICT', `sandbox ${this.id} is already running`);
    }
    try {
      for (const group of this.#groups) await applyLimits(group, limits);
    } catch (error) {
      await this.remove();
      throw new NixSpaceError('SANDBOX_FAILED', `cannot set the limits of sandbox ${this.id}`, {
        detail: String(error),
        cause: error,
      });
    }
  }

  /**
   * Shell commands that move the running shell (`$$`) into every group (or into its command group
   * `group`, created here when new); `exec` afterwards keeps the pid, so the program and all it
   * forks are inside before their first instruction. If a group was removed (sandbox stopped), the
   * write fails and the wrapper exits instead of running unconfined.
   */
  joinScript(group?: string): string[] {
    const groups = group === undefined ? this.#groups : this.commandGroup(group).create();
    return groups.map(({ dir }) => `echo $$ > ${shellQuote(join(dir, 'cgroup.procs'))}`);
  }

  /**
   * Lets `user` make groups below the sandbox's and move its own processes into them (the agent
   * placing a job): each directory and its membership files become the user's; the limits stay
   * root's, and a child's limits cannot exceed its parent's.
   */
  async delegate(user: { uid: number; gid: number }): Promise<void> {
    for (const { dir } of this.#groups) {
      await chown(dir, user.uid, user.gid);
      for (const file of ['cgroup.procs', 'tasks', 'cgroup.threads']) {
        await chown(join(dir, file), user.uid, user.gid).catch((error: NodeJS.ErrnoException) => {
          if (error.code !== 'ENOENT') throw error;
        });
      }
    }
  }

  /** The group of the commands started with `{ group: name }`, a child of each of this sandbox's. */
  commandGroup(name: string): CommandCgroup {
    return new CommandCgroup(name, this.#groups);
  }

  /** Members of the sandbox, its command groups' included. */
  pids(): Promise<number[]> {
    return memberPids(this.dirs);
  }

  /** SIGKILLs every member (its command groups' too) and resolves when none is left. */
  killAll(): Promise<void> {
    return killMembers(this.#groups, `sandbox ${this.id}`);
  }

  /**
   * Removes the (empty) groups, their command groups first, and the parents if no other sandbox
   * uses them; absent is fine.
   */
  async remove(): Promise<void> {
    for (const { hierarchy, dir } of this.#groups) {
      for (const child of await childDirs(dir)) await removeGroupDir(child);
      await removeGroupDir(dir);
      await releaseParent(hierarchy);
    }
  }
}

async function applyLimits({ hierarchy, dir }: Group, limits: SandboxLimits): Promise<void> {
  const has = (controller: 'memory' | 'cpu' | 'pids') => hierarchy.controllers.includes(controller);
  const write = (file: string, value: string | number) => writeFile(join(dir, file), String(value));
  const { memoryBytes, cpus, pids } = limits;
  if (memoryBytes !== undefined && has('memory')) {
    const bytes = Math.floor(memoryBytes);
    if (hierarchy.version === 2) {
      await write('memory.max', bytes);
      // Without this the kernel swaps instead of killing, and the limit is not a limit.
      if (existsSync(join(dir, 'memory.swap.max'))) await write('memory.swap.max', 0);
    } else {
      await write('memory.limit_in_bytes', bytes);
      if (existsSync(join(dir, 'memory.memsw.limit_in_bytes'))) {
        await write('memory.memsw.limit_in_bytes', bytes);
      } else {
        await write('memory.swappiness', 0).catch(() => undefined);
      }
    }
  }
  if (cpus !== undefined && has('cpu')) {
    const quota = Math.max(1000, Math.round(cpus * cfsPeriodUs));
    if (hierarchy.version === 2) {
      await write('cpu.max', `${quota} ${cfsPeriodUs}`);
    } else {
      await write('cpu.cfs_period_us', cfsPeriodUs);
      await write('cpu.cfs_quota_us', quota);
    }
  }
  if (pids !== undefined && has('pids')) await write('pids.max', Math.max(1, Math.floor(pids)));
}
