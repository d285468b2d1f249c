// Listing and killing the members of a set of cgroups (one directory per hierarchy), child groups
// included: shared by a sandbox's groups and the groups of its commands.
import { existsSync } from 'node:fs';
import { readdir, readFile, rmdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { NixSpaceError } from '../../errors.js';
import { delay, killQuietly, killUntilGone } from '../host/host-processes.js';
import type { Hierarchy } from './cgroup-hierarchies.js';

export interface Group {
  hierarchy: Hierarchy;
  dir: string;
}

/** The child groups of a group directory (a cgroup's subdirectories are its children). */
export async function childDirs(dir: string): Promise<string[]> {
  try {
    const entries = await readdir(dir, { withFileTypes: true });
    return entries.filter((entry) => entry.isDirectory()).map((entry) => join(dir, entry.name));
  } catch {
    return [];
  }
}

/** Host pids in the groups and in every group below them. */
export async function memberPids(dirs: readonly string[]): Promise<number[]> {
  const pids = new Set<number>();
  const visit = async (dir: string): Promise<void> => {
    let text = '';
    try {
      text = await readFile(join(dir, 'cgroup.procs'), 'utf8');
    } catch {
      return;
    }
    for (const line of text.split('\n')) if (line !== '') pids.add(Number(line));
    for (const child of await childDirs(dir)) await visit(child);
  };
  for (const dir of dirs) await visit(dir);
  return [...pids];
}

/** SIGKILLs every member (child groups included) and resolves when none is left. */
export async function killMembers(groups: readonly Group[], what: string): Promise<void> {
  const list = () => memberPids(groups.map((group) => group.dir));
  const v2 = groups.find((group) => group.hierarchy.version === 2);
  const freezer = groups.find((group) => group.hierarchy.controllers.includes('freezer'));
  // cgroup.kill (v2, also on hybrid hosts) is atomic in the kernel and takes the whole subtree:
  // no fork slips through.
  const killed =
    v2 !== undefined &&
    (await writeFile(join(v2.dir, 'cgroup.kill'), '1').then(
      () => true,
      () => false,
    ));
  if (!killed && freezer !== undefined && existsSync(freezer.dir)) {
    // Freeze first (v1 freezes the children too) so nobody forks between reading the list and the
    // kills; the kills land on thaw.
    await freeze(freezer.dir);
    for (const pid of await list()) killQuietly(pid);
    await writeFile(join(freezer.dir, 'freezer.state'), 'THAWED').catch(() => undefined);
  }
  try {
    await killUntilGone(list, { what });
  } catch (error) {
    throw new NixSpaceError('SANDBOX_FAILED', `cannot kill the processes of ${what}`, {
      detail: String(error),
      cause: error,
    });
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

/** Removes one empty cgroup directory; absent is fine. */
export async function removeGroupDir(dir: string): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    try {
      await rmdir(dir);
      return;
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') return;
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
}
