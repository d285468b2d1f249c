// What a box holds on the host besides runsc's state: its processes (the sentry, the gofer, and
// with the ptrace platform one stub process per address space inside) and its cgroups. Found
// without runsc, so a box runsc no longer knows (a crashed runsc, a removed state directory) can
// still be removed, and a stop can be verified.
import { readdir, readFile, rmdir } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { killUntilGone } from '../../host/host-processes.js';
import { boxCgroupPath } from './oci-config.js';

/** Host pids whose command line names the bundle (`--bundle dir` or `--bundle=dir`). */
export async function boxHostPids(bundleDir: string): Promise<number[]> {
  const pids: number[] = [];
  for (const name of await readdir('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    let argv: string[];
    try {
      argv = (await readFile(`/proc/${name}/cmdline`, 'utf8')).split('\0');
    } catch {
      continue;
    }
    const named = argv.some(
      (arg, index) =>
        arg === `--bundle=${bundleDir}` || (arg === '--bundle' && argv[index + 1] === bundleDir),
    );
    if (named && Number(name) !== process.pid) pids.push(Number(name));
  }
  return pids;
}

/** SIGKILLs every process of the box until none is left. */
export function killBoxProcesses(bundleDir: string, id: string): Promise<void> {
  return killUntilGone(() => boxHostPids(bundleDir), { what: `box ${id}` });
}

interface CgroupMount {
  mountPoint: string;
  root: string;
  /** v1 controllers (and name=...) of the mount; empty for the unified hierarchy. */
  controllers: string[];
}

async function cgroupMounts(): Promise<CgroupMount[]> {
  const mounts: CgroupMount[] = [];
  for (const line of (await readFile('/proc/self/mountinfo', 'utf8')).split('\n')) {
    const [left, right] = line.split(' - ');
    const fields = left?.split(' ') ?? [];
    const [fsType, , options = ''] = right?.split(' ') ?? [];
    const root = fields[3];
    const mountPoint = fields[4];
    if (root === undefined || mountPoint === undefined) continue;
    if (fsType === 'cgroup2') mounts.push({ mountPoint, root, controllers: [] });
    if (fsType === 'cgroup') {
      const controllers = options.split(',').filter((o) => !['rw', 'ro', 'relatime'].includes(o));
      mounts.push({ mountPoint, root, controllers });
    }
  }
  return mounts;
}

/** Each hierarchy's directory for the cgroup paths in a /proc/<pid>/cgroup text. */
async function dirsOf(cgroupText: string, child: string): Promise<string[]> {
  const mounts = await cgroupMounts();
  const dirs = new Set<string>();
  for (const line of cgroupText.split('\n')) {
    const match = /^\d+:([^:]*):(.*)$/.exec(line);
    if (match?.[1] === undefined || match[2] === undefined) continue;
    const names = match[1] === '' ? [] : match[1].split(',');
    const mount = mounts.find((m) =>
      names.length === 0 ? m.controllers.length === 0 : names.every((n) => m.controllers.includes(n)),
    );
    if (mount === undefined) continue;
    const path =
      mount.root !== '/' && match[2].startsWith(mount.root) ? match[2].slice(mount.root.length) : match[2];
    dirs.add(join(mount.mountPoint, path, child));
  }
  return [...dirs];
}

/** The cgroup directories of a running box, read from its sentry's membership. */
export async function runningBoxCgroups(pid: number): Promise<string[]> {
  try {
    return await dirsOf(await readFile(`/proc/${pid}/cgroup`, 'utf8'), '');
  } catch {
    return [];
  }
}

/** Where runsc, started from this process's cgroups, puts box `id`'s (its path is relative). */
export async function expectedBoxCgroups(id: string): Promise<string[]> {
  return dirsOf(await readFile('/proc/self/cgroup', 'utf8'), boxCgroupPath(id));
}

/** The box's cgroup directories that still exist. */
export async function existingDirs(dirs: readonly string[]): Promise<string[]> {
  const found: string[] = [];
  for (const dir of dirs) {
    if (
      await readdir(dir).then(
        () => true,
        () => false,
      )
    )
      found.push(dir);
  }
  return found;
}

/**
 * Removes the box's (empty) cgroup directories and their `nixspace-gvisor` parents once no other
 * box uses them; absent is fine, and a parent in use refuses with EBUSY, as expected.
 */
export async function removeBoxCgroups(dirs: readonly string[]): Promise<void> {
  const parent = dirname(boxCgroupPath('x'));
  for (const dir of dirs) {
    await rmdir(dir).catch(() => undefined);
    if (basename(dirname(dir)) === parent) await rmdir(dirname(dir)).catch(() => undefined);
  }
}
