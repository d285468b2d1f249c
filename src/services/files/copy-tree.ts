// Copies a directory tree as cheaply as the filesystem allows: a reflink (copy-on-write) clone
// where it supports one, else a plain copy. `cp` does this better than any hand-written walk.
// A tree of a workspace is copied from below its root without following a symlink on the way:
// `cp` is handed the directory already open, and copies symlinks inside as symlinks.

import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { NixSpaceError } from '../../errors.js';
import { withParentBelow } from '../../runtime/host/workspace-file.js';

async function cp(
  mode: 'always' | 'auto',
  source: string,
  target: string,
  /** A directory open here, seen by `cp` as its descriptor 3. */
  dirFd?: number,
): Promise<{ code: number; stderr: string }> {
  const child = spawn('cp', ['-a', `--reflink=${mode}`, '--', source, target], {
    stdio: dirFd === undefined ? ['ignore', 'ignore', 'pipe'] : ['ignore', 'ignore', 'pipe', dirFd],
  });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const [code] = (await once(child, 'exit')) as [number | null];
  return { code: code ?? -1, stderr: stderr.trim() };
}

/** Copies `source` to `target` (which must not exist); says whether it was copy-on-write. */
export async function copyTree(
  source: string,
  target: string,
  dirFd?: number,
): Promise<{ copyOnWrite: boolean }> {
  const cloned = await cp('always', source, target, dirFd);
  if (cloned.code === 0) return { copyOnWrite: true };
  // No reflinks here: clear what the attempt left and copy for real.
  await new Promise<void>((resolve) => spawn('rm', ['-rf', '--', target]).once('exit', () => resolve()));
  const copied = await cp('auto', source, target, dirFd);
  if (copied.code !== 0) throw new NixSpaceError('INTERNAL', `Could not copy ${source}: ${copied.stderr}`);
  return { copyOnWrite: false };
}

/**
 * Copies `relative` below `root` (a tree the workspace can write) to `target`, never through a
 * symlink: false when it is not there, is a symlink, or a directory on the way is one; else how.
 */
export async function copyTreeFromBelow(
  root: string,
  relative: string,
  target: string,
): Promise<'copy-on-write' | 'copied' | false> {
  const copied = await withParentBelow(root, relative, async (dirFd, name) => {
    const { copyOnWrite } = await copyTree(`/proc/self/fd/3/${name}`, target, dirFd);
    return copyOnWrite ? ('copy-on-write' as const) : ('copied' as const);
  });
  return copied ?? false;
}
