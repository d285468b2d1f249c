// Copies a directory tree as cheaply as the filesystem allows: a reflink (copy-on-write) clone
// where it supports one, else a plain copy. `cp` does this better than any hand-written walk.

import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { NixSpaceError } from '../../errors.js';

async function cp(
  mode: 'always' | 'auto',
  source: string,
  target: string,
): Promise<{ code: number; stderr: string }> {
  const child = spawn('cp', ['-a', `--reflink=${mode}`, '--', source, target], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const [code] = (await once(child, 'exit')) as [number | null];
  return { code: code ?? -1, stderr: stderr.trim() };
}

/** Copies `source` to `target` (which must not exist); says whether it was copy-on-write. */
export async function copyTree(source: string, target: string): Promise<{ copyOnWrite: boolean }> {
  const cloned = await cp('always', source, target);
  if (cloned.code === 0) return { copyOnWrite: true };
  // No reflinks here: clear what the attempt left and copy for real.
  await new Promise<void>((resolve) => spawn('rm', ['-rf', '--', target]).once('exit', () => resolve()));
  const copied = await cp('auto', source, target);
  if (copied.code !== 0) throw new NixSpaceError('INTERNAL', `Could not copy ${source}: ${copied.stderr}`);
  return { copyOnWrite: false };
}
