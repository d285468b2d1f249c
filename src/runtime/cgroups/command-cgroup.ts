// The cgroup of one command inside a sandbox (a job): a child of each of the sandbox's groups, so
// the sandbox's limits still hold, while the command's processes can be found and killed apart
// from the rest of the sandbox whatever they do to their session or parent.
import { mkdirSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { NixSpaceError } from '../../errors.js';
import type { CommandGroup } from '../sandbox.js';
import { type Group, killMembers, memberPids, removeGroupDir } from './cgroup-members.js';

const groupName = /^[A-Za-z0-9][A-Za-z0-9-]{0,63}$/;

export class CommandCgroup implements CommandGroup {
  readonly name: string;
  readonly #parents: readonly Group[];
  readonly #groups: readonly Group[];

  constructor(name: string, parents: readonly Group[]) {
    if (!groupName.test(name)) {
      throw new NixSpaceError(
        'BAD_REQUEST',
        `'${name}' is not a command group name (letters, digits, dashes)`,
      );
    }
    this.name = name;
    this.#parents = parents;
    this.#groups = parents.map(({ hierarchy, dir }) => ({ hierarchy, dir: join(dir, name) }));
  }

  /**
   * Creates the group where it does not exist yet and returns where to join. Synchronous, as
   * building a command is. A sandbox group that is gone (the sandbox stopped) is left gone: joining
   * then fails and the command does not run.
   */
  create(): readonly Group[] {
    for (const { dir } of this.#groups) {
      try {
        mkdirSync(dir);
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        if (code === 'EEXIST' || code === 'ENOENT') continue;
        throw new NixSpaceError('SANDBOX_FAILED', `cannot create cgroup ${dir}`, {
          detail: String(error),
          cause: error,
        });
      }
    }
    return this.#groups;
  }

  pids(): Promise<number[]> {
    return memberPids(this.#groups.map((group) => group.dir));
  }

  kill(): Promise<void> {
    return killMembers(this.#groups, `command group ${this.name}`);
  }

  async release(): Promise<void> {
    // What the command left running (a daemon it started on purpose) moves up to the sandbox's
    // group, where it lives on as it would have without a group of its own.
    for (let attempt = 0; attempt < 50; attempt++) {
      const left = await this.pids();
      if (left.length === 0) break;
      for (const { dir } of this.#parents) {
        for (const pid of left) {
          await writeFile(join(dir, 'cgroup.procs'), String(pid)).catch(() => undefined);
        }
      }
    }
    for (const { dir } of this.#groups) await removeGroupDir(dir);
  }
}
