// Looking at files the sandbox can write, from the host: no symlink is followed on the way or at
// the end, nothing but a regular file is read (a FIFO would hang, a device never ends), and never
// more than a limit.

import { constants } from 'node:fs';
import { lstat, open } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * Whether `relative` is a plain path under `root`: no `..`, and every directory on the way is a
 * real directory, not a symlink. The last component is not checked.
 */
export async function plainPath(root: string, relative: string): Promise<boolean> {
  const parts = relative.split('/').filter((part) => part !== '' && part !== '.');
  if (relative.startsWith('/') || parts.includes('..')) return false;
  let dir = root;
  for (const part of parts.slice(0, -1)) {
    dir = join(dir, part);
    const stat = await lstat(dir).catch(() => undefined);
    if (!stat?.isDirectory()) return false;
  }
  return true;
}

/** Whether anything (a symlink included) is at `relative` under `root`. */
export async function presentIn(root: string, relative: string): Promise<boolean> {
  if (!(await plainPath(root, relative))) return false;
  return lstat(join(root, relative)).then(
    () => true,
    () => false,
  );
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
  if (!(await plainPath(root, relative))) return undefined;
  const flags = constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK;
  const handle = await open(join(root, relative), flags).catch(() => undefined);
  if (!handle) return undefined;
  try {
    const stat = await handle.stat();
    if (!stat.isFile() || stat.size > maxBytes) return undefined;
    // Read what the size said, not until EOF: the file may still be growing.
    const buffer = Buffer.alloc(stat.size);
    let filled = 0;
    while (filled < buffer.length) {
      const { bytesRead } = await handle.read(buffer, filled, buffer.length - filled, filled);
      if (bytesRead === 0) break;
      filled += bytesRead;
    }
    return buffer.subarray(0, filled);
  } finally {
    await handle.close();
  }
}
