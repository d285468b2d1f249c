// Hands a tree the server made to a sandbox's user, before the sandbox can write it: chown walks
// it without following a symlink (-P, the default of -R), so nothing outside the tree changes
// owner even if the tree holds links to host files.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { NixSpaceError } from '../../errors.js';
import type { SandboxUser } from '../sandbox.js';

export async function giveTree(path: string, user: SandboxUser): Promise<void> {
  try {
    await promisify(execFile)('chown', ['-R', '-P', `${user.uid}:${user.gid}`, '--', path], {
      timeout: 120_000,
    });
  } catch (error) {
    throw new NixSpaceError('SANDBOX_FAILED', `cannot hand ${path} to the workspace user`, {
      detail: (error as { stderr?: string }).stderr?.trim() || String(error),
      cause: error,
    });
  }
}
