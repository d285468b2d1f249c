// Finds the cgroup hierarchies this process may write, v1 (one mount per controller, as on hybrid
// hosts) or v2 (unified). Sandbox groups are nested under the server's own cgroup, in a
// `nixspace` parent, so they stay inside whatever limits and accounting the server itself runs in
// (a systemd service with Delegate=yes gives a stable place across restarts).
import {
  accessSync,
  constants,
  existsSync,
  mkdirSync,
  readFileSync,
  rmdirSync,
  writeFileSync,
} from 'node:fs';
import { mkdir, rmdir } from 'node:fs/promises';
import { join } from 'node:path';

/** The controllers NixSpace uses: three for limits, freezer to kill a group without races (v1). */
export type Controller = 'memory' | 'cpu' | 'pids' | 'freezer';

const wanted: readonly Controller[] = ['memory', 'cpu', 'pids', 'freezer'];

export interface Hierarchy {
  version: 1 | 2;
  /** Controllers usable for groups created under `parent`. */
  controllers: readonly Controller[];
  /** The `nixspace` directory that holds one group per sandbox. */
  parent: string;
}

interface CgroupMount {
  version: 1 | 2;
  mountPoint: string;
  /** Path inside the hierarchy that the mount exposes (not "/" inside some containers). */
  root: string;
  controllers: readonly string[];
}

function readMounts(): CgroupMount[] {
  const mounts: CgroupMount[] = [];
  for (const line of readFileSync('/proc/self/mountinfo', 'utf8').split('\n')) {
    const [left, right] = line.split(' - ');
    if (left === undefined || right === undefined) continue;
    const fields = left.split(' ');
    const [fsType, , superOptions = ''] = right.split(' ');
    const root = fields[3];
    const mountPoint = fields[4];
    if (root === undefined || mountPoint === undefined) continue;
    if (fsType === 'cgroup') {
      mounts.push({ version: 1, mountPoint, root, controllers: superOptions.split(',') });
    } else if (fsType === 'cgroup2') {
      let controllers: string[] = [];
      try {
        controllers = readFileSync(join(mountPoint, 'cgroup.controllers'), 'utf8').trim().split(/\s+/);
      } catch {
        // unreadable: treat as having no controllers
      }
      mounts.push({ version: 2, mountPoint, root, controllers });
    }
  }
  return mounts;
}

/** The server's own path in each hierarchy, keyed by controller list ("" for v2). */
function readOwnPaths(): Map<string, string> {
  const paths = new Map<string, string>();
  for (const line of readFileSync('/proc/self/cgroup', 'utf8').split('\n')) {
    const match = /^\d+:([^:]*):(.*)$/.exec(line);
    if (match?.[1] === undefined || match[2] === undefined) continue;
    for (const controller of match[1].split(',')) paths.set(controller, match[2]);
  }
  return paths;
}

function relativeToMount(own: string, mountRoot: string): string {
  if (mountRoot === '/' || !own.startsWith(mountRoot)) return own;
  return own.slice(mountRoot.length) || '/';
}

function isWritableDir(dir: string): boolean {
  try {
    mkdirSync(dir, { recursive: true });
    accessSync(join(dir, 'cgroup.procs'), constants.W_OK);
    return true;
  } catch {
    return false;
  }
}

function readControllers(file: string): Controller[] {
  try {
    const listed = readFileSync(file, 'utf8').trim().split(/\s+/);
    return wanted.filter((controller) => listed.includes(controller));
  } catch {
    return [];
  }
}

/** v2 only lets a group use the controllers its parent enabled in cgroup.subtree_control. */
function enableSubtree(dir: string, controllers: readonly Controller[]): void {
  const line = controllers.map((controller) => `+${controller}`).join(' ');
  if (line === '') return;
  try {
    writeFileSync(join(dir, 'cgroup.subtree_control'), line);
  } catch {
    // EBUSY when `dir` holds processes itself (v2's no-internal-processes rule); the caller
    // reads back what actually got enabled
  }
}

function v2Hierarchy(mount: CgroupMount, own: string): Hierarchy | undefined {
  const offered = wanted.filter(
    (controller) => controller !== 'freezer' && mount.controllers.includes(controller),
  );
  // Prefer the server's own group; the root group is exempt from the no-internal-processes rule,
  // so it is the fallback when the own group cannot delegate.
  let best: Hierarchy | undefined;
  for (const base of new Set([join(mount.mountPoint, own), mount.mountPoint])) {
    const parent = join(base, 'nixspace');
    if (!existsSync(base)) continue;
    enableSubtree(base, offered);
    if (!isWritableDir(parent)) continue;
    enableSubtree(parent, offered);
    const controllers = readControllers(join(parent, 'cgroup.subtree_control'));
    releaseParentSync(parent);
    if (best === undefined || controllers.length > best.controllers.length) {
      best = { version: 2, controllers, parent };
    }
    if (controllers.length === offered.length) break;
  }
  return best;
}

/**
 * Creates the `nixspace` parent (again, if the last sandbox removed it) and, on v2, lets its
 * children use the controllers.
 */
export async function prepareParent(hierarchy: Hierarchy): Promise<void> {
  await mkdir(hierarchy.parent, { recursive: true });
  if (hierarchy.version === 2) enableSubtree(hierarchy.parent, hierarchy.controllers);
}

/**
 * Removes the `nixspace` parent once it is empty, so an idle server leaves no trace in the
 * hierarchy (and never keeps its own group from being removed). A parent that still has groups
 * refuses with EBUSY, which is the expected outcome while other sandboxes run.
 */
export async function releaseParent(hierarchy: Hierarchy): Promise<void> {
  await rmdir(hierarchy.parent).catch(() => undefined);
}

function releaseParentSync(parent: string): void {
  try {
    rmdirSync(parent);
  } catch {
    // in use by sandboxes, or already gone
  }
}

/** Detects writable hierarchies (probing by creating, then removing, the `nixspace` parents). */
export function detectHierarchies(): Hierarchy[] {
  let mounts: CgroupMount[];
  let own: Map<string, string>;
  try {
    mounts = readMounts();
    own = readOwnPaths();
  } catch {
    return [];
  }
  // A hybrid host's unified mount may offer no controller we limit with, but it still gives
  // membership and an atomic cgroup.kill, so it is used whenever it is writable.
  const unified = mounts.find((mount) => mount.version === 2);
  const hierarchies: Hierarchy[] = [];
  const covered = new Set<Controller>();
  if (unified !== undefined) {
    const hierarchy = v2Hierarchy(unified, relativeToMount(own.get('') ?? '/', unified.root));
    if (hierarchy !== undefined) {
      hierarchies.push(hierarchy);
      for (const controller of hierarchy.controllers) covered.add(controller);
    }
  }
  const seen = new Set<string>();
  for (const mount of mounts) {
    if (mount.version !== 1 || seen.has(mount.mountPoint)) continue;
    const controllers = wanted.filter((c) => mount.controllers.includes(c) && !covered.has(c));
    const first = controllers[0];
    if (first === undefined) continue;
    seen.add(mount.mountPoint);
    const parent = join(mount.mountPoint, relativeToMount(own.get(first) ?? '/', mount.root), 'nixspace');
    if (!isWritableDir(parent)) continue;
    releaseParentSync(parent);
    hierarchies.push({ version: 1, controllers, parent });
    for (const controller of controllers) covered.add(controller);
  }
  return hierarchies;
}
