// Checks the one writable directory of a sandbox before anything is mounted or spawned.
import { realpath, stat } from 'node:fs/promises';
import { isAbsolute } from 'node:path';
import { NixSpaceError } from '../errors.js';

/** Returns the directory's real path (bind mounts need it without symlinks). */
export async function resolveWorkspaceDir(dir: string): Promise<string> {
  if (!isAbsolute(dir)) throw new NixSpaceError('BAD_REQUEST', `workspace dir must be absolute: ${dir}`);
  let real: string;
  try {
    real = await realpath(dir);
    if (!(await stat(real)).isDirectory()) throw new Error('not a directory');
  } catch (error) {
    throw new NixSpaceError('BAD_REQUEST', `workspace dir is not a directory: ${dir}`, { cause: error });
  }
  if (real === '/') throw new NixSpaceError('BAD_REQUEST', 'the host root cannot be a workspace dir');
  return real;
}
