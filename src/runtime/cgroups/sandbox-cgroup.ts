// One sandbox's cgroups: a directory per hierarchy under `nixspace/<id>`. Processes join by writing
// their own pid into each cgroup.procs before exec (see `joinScript`), so nothing they start can
// escape the limits or the final kill.
import { existsSync } from 'node:fs';
import { mkdir, readFile, rmdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { NixSpaceError } from '../../errors.js';
import { delay, killQuietly, killUntilGone } from '../host/host-processes.js';
import { shellQuote } from '../host/shell-quote.js';
import type { SandboxLimits } from '../sandbox.js';
import { type Hierarchy, prepareParent, releaseParent } from './cgroup-hierarchies.js';

interface Group {
  hierarchy: Hierarchy;
  dir: string;
}

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
   * Shell commands that move the running shell (`$$`) into every group; `exec` afterwards keeps the
   * pid, so the program and all it forks are inside before their first instruction. If a group was
   * removed (sandbox stopped), the write fails and the wrapper exits instead of running unconfined.
   */
  joinScript(): string[] {
    return this.#groups.map(({ dir }) => `echo $$ > ${shellQuote(join(dir, 'cgroup.procs'))}`);
  }

  async pids(): Promise<number[]> {
    const pids = new Set<number>();
    for (const { dir } of this.#groups) {
      let text = '';
      try {
        text = await readFile(join(dir, 'cgroup.procs'), 'utf8');
      } catch {
        continue;
      }
      for (const line of text.split('\n')) if (line !== '') pids.add(Number(line));
    }
    return [...pids];
  }

  /** SIGKILLs every member and resolves when none is left. */
  async killAll(): Promise<void> {
    const v2 = this.#groups.find((group) => group.hierarchy.version === 2);
    const freezer = this.#groups.find((group) => group.hierarchy.controllers.includes('freezer'));
    // cgroup.kill (v2, also on hybrid hosts) is atomic in the kernel: no fork slips through.
    const killed =
      v2 !== undefined &&
      (await writeFile(join(v2.dir, 'cgroup.kill'), '1').then(
        () => true,
        () => false,
      ));
    if (!killed && freezer !== undefined && existsSync(freezer.dir)) {
      // Freeze first so nobody forks between reading the list and the kills; the kills land on thaw.
      await freeze(freezer.dir);
      for (const pid of await this.pids()) killQuietly(pid);
      await writeFile(join(freezer.dir, 'freezer.state'), 'THAWED').catch(() => undefined);
    }
    try {
      await killUntilGone(() => this.pids(), { what: `sandbox ${this.id}` });
    } catch (error) {
      throw new NixSpaceError('SANDBOX_FAILED', `cannot kill the processes of sandbox ${this.id}`, {
        detail: String(error),
        cause: error,
      });
    }
  }

  /** Removes the (empty) groups, and the parents if no other sandbox uses them; absent is fine. */
  async remove(): Promise<void> {
    for (const { hierarchy, dir } of this.#groups) {
      for (let attempt = 0; ; attempt++) {
        try {
          await rmdir(dir);
          break;
        } catch (error) {
          const code = (error as NodeJS.ErrnoException).code;
          if (code === 'ENOENT') break;
          // A just-killed task can keep a v1 group busy for a moment.
          if (code === 'EBUSY' && attempt < 100) {
            await delay(10);
            continue;
          }
          throw new NixSpaceError('SANDBOX_FAILED', `cannot remove cgroup ${dir}`, {
            detail: String(error),
            cause: error,
          });
        }
      }
      await releaseParent(hierarchy);
    }
  }
}

async function freeze(dir: string): Promise<void> {
  const state = join(dir, 'freezer.state');
  try {
    await writeFile(state, 'FROZEN');
    // Exiting tasks keep a group FREEZING; waiting long for them gains nothing.
    for (let attempt = 0; attempt < 20; attempt++) {
      if ((await readFile(state, 'utf8')).trim() === 'FROZEN') return;
      await delay(5);
    }
  } catch {
    // Freezing is an optimisation; the kill loop still converges without it.
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
