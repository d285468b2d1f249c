// Looking at files the sandbox can write, from the host. A path below a root is opened one
// component at a time, each through the directory already open (`/proc/self/fd/<fd>/<name>`) with
// O_NOFOLLOW, so no symlink is followed on the way or at the end, and a directory swapped for a
// symlink between two steps is refused, not followed. Nothing but a regular file is read (a FIFO
// would hang, a device never ends), and never more than a limit, whatever the file's size says.

import { constants, type Dirent } from 'node:fs';
import { type FileHandle, lstat, open, readdir } from 'node:fs/promises';

// Node opens every file close-on-exec.
const { O_RDONLY, O_DIRECTORY, O_NOFOLLOW, O_NONBLOCK } = constants;
const DIR_FLAGS = O_RDONLY | O_DIRECTORY | O_NOFOLLOW;
const FILE_FLAGS = O_RDONLY | O_NOFOLLOW | O_NONBLOCK;

/** What is at a path below a root, looked at without following anything. */
export type EntryKind = 'file' | 'dir' | 'link' | 'other';

/** Why a path was not read: nothing there, a symlink (at the end or on the way), not a regular file, too big. */
export type Refusal = 'absent' | 'symlink' | 'not-a-file' | 'too-large' | 'bad-path';

export type ReadOutcome = { ok: true; content: Buffer; truncated: boolean } | { ok: false; why: Refusal };

/** The components of a relative path, or undefined when it is absolute or climbs out (`..`). */
function components(relative: string): string[] | undefined {
  if (relative.startsWith('/') || relative.includes('\0')) return undefined;
  const parts = relative.split('/').filter((part) => part !== '' && part !== '.');
  return parts.includes('..') ? undefined : parts;
}

function refusalOf(error: unknown): Refusal {
  const code = (error as NodeJS.ErrnoException).code;
  // O_NOFOLLOW on a symlink: ELOOP; O_DIRECTORY on a symlink or a file: ENOTDIR.
  if (code === 'ELOOP') return 'symlink';
  if (code === 'ENOTDIR') return 'not-a-file';
  return 'absent';
}

function through(dir: FileHandle, name: string): string {
  return `/proc/self/fd/${dir.fd}/${name}`;
}

/**
 * Opens the directory `parts` names below `root` (`root` itself for none), every step a real
 * directory. The caller closes what it gets.
 */
async function openDirBelow(
  root: string,
  parts: readonly string[],
): Promise<{ ok: true; dir: FileHandle } | { ok: false; why: Refusal }> {
  let dir: FileHandle;
  try {
    dir = await open(root, DIR_FLAGS);
  } catch (error) {
    return { ok: false, why: refusalOf(error) };
  }
  for (const part of parts) {
    let next: FileHandle;
    try {
      next = await open(through(dir, part), DIR_FLAGS);
    } catch (error) {
      // O_DIRECTORY|O_NOFOLLOW on a symlink fails as ENOTDIR: name it for what it is.
      const why = refusalOf(error);
      const refusal = why === 'not-a-file' ? await kindRefusal(dir, part) : why;
      await dir.close();
      return { ok: false, why: refusal };
    }
    await dir.close();
    dir = next;
    if (!(await dir.stat()).isDirectory()) {
      await dir.close();
      return { ok: false, why: 'not-a-file' };
    }
  }
  return { ok: true, dir };
}

async function kindRefusal(dir: FileHandle, name: string): Promise<Refusal> {
  const stat = await lstat(through(dir, name)).catch(() => undefined);
  return stat?.isSymbolicLink() ? 'symlink' : 'not-a-file';
}

/**
 * Reads the regular file at `relative` below `root`: at most `maxBytes` of it. A longer file is
 * refused as `too-large`, or with `truncate`, its first `maxBytes` are returned.
 */
export async function readBelow(
  root: string,
  relative: string,
  options: { maxBytes: number; truncate?: boolean },
): Promise<ReadOutcome> {
  const parts = components(relative);
  const name = parts?.at(-1);
  if (!parts || name === undefined) return { ok: false, why: 'bad-path' };
  const opened = await openDirBelow(root, parts.slice(0, -1));
  if (!opened.ok) return opened;
  let file: FileHandle;
  try {
    file = await open(through(opened.dir, name), FILE_FLAGS);
  } catch (error) {
    return { ok: false, why: refusalOf(error) };
  } finally {
    await opened.dir.close();
  }
  try {
    const stat = await file.stat();
    if (!stat.isFile()) return { ok: false, why: 'not-a-file' };
    // One byte past the limit tells a file that is too long, whatever its size said (it may grow).
    const limit = options.maxBytes + 1;
    let buffer = Buffer.alloc(Math.min(stat.size + 1, limit));
    let filled = 0;
    while (filled < limit) {
      if (filled === buffer.length) {
        const grown = Buffer.alloc(Math.min(buffer.length * 2, limit));
        buffer.copy(grown, 0, 0, filled);
        buffer = grown;
      }
      const { bytesRead } = await file.read(buffer, filled, buffer.length - filled, filled);
      if (bytesRead === 0) break;
      filled += bytesRead;
    }
    if (filled > options.maxBytes) {
      if (!options.truncate) return { ok: false, why: 'too-large' };
      return { ok: true, content: buffer.subarray(0, options.maxBytes), truncated: true };
    }
    return { ok: true, content: buffer.subarray(0, filled), truncated: false };
  } finally {
    await file.close();
  }
}

/**
 * The content of the regular file at `relative` under `root`; undefined when it is absent, not a
 * regular file, reached through a symlink, or larger than `maxBytes`.
 */
export async function readWorkspaceFile(
  root: string,
  relative: string,
  maxBytes: number,
): Promise<Buffer | undefined> {
  const outcome = await readBelow(root, relative, { maxBytes });
  return outcome.ok ? outcome.content : undefined;
}

/** What is at `relative` below `root` (a symlink is a `link`, not what it points at); undefined when nothing. */
export async function kindBelow(root: string, relative: string): Promise<EntryKind | undefined> {
  const parts = components(relative);
  if (!parts) return undefined;
  const name = parts.at(-1);
  const opened = await openDirBelow(root, name === undefined ? [] : parts.slice(0, -1));
  if (!opened.ok) return undefined;
  try {
    if (name === undefined) return 'dir';
    const stat = await lstat(through(opened.dir, name)).catch(() => undefined);
    if (!stat) return undefined;
    return stat.isFile() ? 'file' : stat.isDirectory() ? 'dir' : stat.isSymbolicLink() ? 'link' : 'other';
  } finally {
    await opened.dir.close();
  }
}

/** The entries of the directory at `relative` below `root`; undefined when it is not a real directory. */
export async function listBelow(
  root: string,
  relative: string,
): Promise<Array<{ name: string; kind: EntryKind }> | undefined> {
  const parts = components(relative);
  if (!parts) return undefined;
  const opened = await openDirBelow(root, parts);
  if (!opened.ok) return undefined;
  try {
    const entries: Dirent[] = await readdir(`/proc/self/fd/${opened.dir.fd}`, { withFileTypes: true });
    return entries.map((entry) => ({
      name: entry.name,
      kind: entry.isFile() ? 'file' : entry.isDirectory() ? 'dir' : entry.isSymbolicLink() ? 'link' : 'other',
    }));
  } catch {
    return undefined;
  } finally {
    await opened.dir.close();
  }
}

/**
 * Runs `use` with the directory that holds `relative` below `root` open (every step a real
 * directory) and the last component's name, which is there and is not a symlink; undefined (and
 * `use` not run) otherwise. The descriptor is closed once `use` settles.
 */
export async function withParentBelow<T>(
  root: string,
  relative: string,
  use: (dirFd: number, name: string) => Promise<T>,
): Promise<T | undefined> {
  const parts = components(relative);
  const name = parts?.at(-1);
  if (!parts || name === undefined) return undefined;
  const opened = await openDirBelow(root, parts.slice(0, -1));
  if (!opened.ok) return undefined;
  try {
    const stat = await lstat(through(opened.dir, name)).catch(() => undefined);
    if (!stat || stat.isSymbolicLink()) return undefined;
    return await use(opened.dir.fd, name);
  } finally {
    await opened.dir.close();
  }
}

/**
 * Whether `relative` is a plain path under `root`: no `..`, and every directory on the way is a
 * real directory, not a symlink. The last component is not checked.
 */
export async function plainPath(root: string, relative: string): Promise<boolean> {
  const parts = components(relative);
  if (!parts) return false;
  const opened = await openDirBelow(root, parts.slice(0, -1));
  if (!opened.ok) return false;
  await opened.dir.close();
  return true;
}

/** Whether anything (a symlink included) is at `relative` under `root`. */
export async function presentIn(root: string, relative: string): Promise<boolean> {
  return (await kindBelow(root, relative)) !== undefined;
}
