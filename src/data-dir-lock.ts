// One server per data directory: a second server on the same directory would reconcile the first
// one's workspaces as left over and kill their sandboxes. The lock is a file created with O_EXCL
// that names its holder (pid, the kernel's start time of that pid, and once known the address it
// listens on); a lock whose holder is gone, or whose pid now belongs to another process, is stale
// and taken over.

import { link, open, readFile, rename, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { NixSpaceError } from './errors.js';

export interface DataDirLockHolder {
  pid: number;
  /** Start time of the pid in clock ticks after boot (/proc/<pid>/stat field 22): pid reuse shows. */
  startTicks: number;
  startedAt: string;
  /** Where the holder listens, once it does. */
  url?: string;
}

export interface DataDirLock {
  readonly path: string;
  /** Records where the server listens, for the message a second server shows. */
  setUrl(url: string): Promise<void>;
  /** Removes the lock if it is still this process's. */
  release(): Promise<void>;
}

export function dataDirLockPath(dataDir: string): string {
  return join(dataDir, 'nixspace.lock');
}

/** Start time of a live process in clock ticks, or undefined when there is no such process. */
export async function processStartTicks(pid: number): Promise<number | undefined> {
  try {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
    // The command name may hold spaces and parentheses: fields start after the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // fields[0] is field 3 (state); field 22 (starttime) is fields[19].
    if (fields[0] === 'Z') return undefined;
    const ticks = Number(fields[19]);
    return Number.isFinite(ticks) ? ticks : undefined;
  } catch {
    return undefined;
  }
}

async function readHolder(path: string): Promise<DataDirLockHolder | undefined> {
  try {
    const parsed = JSON.parse(await readFile(path, 'utf8')) as Partial<DataDirLockHolder>;
    if (typeof parsed.pid !== 'number' || typeof parsed.startTicks !== 'number') return undefined;
    return parsed as DataDirLockHolder;
  } catch {
    return undefined;
  }
}

async function isAlive(holder: DataDirLockHolder): Promise<boolean> {
  return (await processStartTicks(holder.pid)) === holder.startTicks;
}

function sameHolder(a: DataDirLockHolder | undefined, b: DataDirLockHolder | undefined): boolean {
  return a !== undefined && b !== undefined && a.pid === b.pid && a.startTicks === b.startTicks;
}

function describe(holder: DataDirLockHolder): string {
  const where = holder.url ? `listening on ${holder.url}, ` : '';
  return `pid ${holder.pid}, ${where}started ${holder.startedAt}`;
}

/**
 * Takes the data directory's lock, or throws CONFLICT naming the server that holds it. A stale
 * lock (its process gone or replaced) is taken over.
 */
export async function acquireDataDirLock(dataDir: string): Promise<DataDirLock> {
  const path = dataDirLockPath(dataDir);
  const startTicks = await processStartTicks(process.pid);
  if (startTicks === undefined) throw new Error('cannot read this process’s start time from /proc');
  const me: DataDirLockHolder = { pid: process.pid, startTicks, startedAt: new Date().toISOString() };
  for (let attempt = 0; attempt < 10; attempt++) {
    try {
      const handle = await open(path, 'wx', 0o600);
      try {
        await handle.writeFile(`${JSON.stringify(me)}\n`);
      } finally {
        await handle.close();
      }
      return lockOf(path, me);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    const holder = await readHolder(path);
    if (holder === undefined) {
      // Being written by its creator right now, or garbage left by a crash in between: a lock
      // nobody can name is stale only once it has stayed unreadable for a moment.
      await new Promise((resolve) => setTimeout(resolve, 50));
      if ((await readHolder(path)) === undefined) await takeOver(path, undefined);
      continue;
    }
    if (await isAlive(holder)) {
      throw new NixSpaceError(
        'CONFLICT',
        `Another NixSpace server is using the data directory ${dataDir} (${describe(holder)}): stop it first, or give this one another --data-dir`,
        { detail: `lock file ${path}` },
      );
    }
    await takeOver(path, holder);
  }
  throw new NixSpaceError('CONFLICT', `cannot take the lock ${path}: other servers keep taking it`);
}

/**
 * Moves a stale lock out of the way. Two servers may judge the same lock stale at once: whoever
 * moves it checks that what it moved is the lock it judged, and puts back one it did not mean to.
 */
async function takeOver(path: string, stale: DataDirLockHolder | undefined): Promise<void> {
  const aside = `${path}.stale-${process.pid}-${Date.now()}`;
  try {
    await rename(path, aside);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw error;
  }
  const moved = await readHolder(aside);
  if (moved !== undefined && !sameHolder(moved, stale) && (await isAlive(moved))) {
    // Another server took the lock meanwhile: give it back (link fails if a third one has).
    await link(aside, path).catch(() => undefined);
  }
  await unlink(aside).catch(() => undefined);
}

function lockOf(path: string, me: DataDirLockHolder): DataDirLock {
  let released = false;
  return {
    path,
    async setUrl(url) {
      if (released || !sameHolder(await readHolder(path), me)) return;
      me.url = url;
      // Replaced whole by a rename, so a reader never sees it empty or half written.
      const next = `${path}.${process.pid}.tmp`;
      await writeFile(next, `${JSON.stringify(me)}\n`, { mode: 0o600 });
      await rename(next, path);
    },
    async release() {
      if (released) return;
      released = true;
      if (sameHolder(await readHolder(path), me)) await unlink(path).catch(() => undefined);
    },
  };
}
