// Resolves a program name to an absolute path, so wrappers never depend on the caller's PATH.
import { accessSync, constants } from 'node:fs';
import { join } from 'node:path';

const systemPath = ['/usr/local/sbin', '/usr/local/bin', '/usr/sbin', '/usr/bin', '/sbin', '/bin'];

export function findExecutable(name: string): string | undefined {
  const dirs = [...(process.env.PATH ?? '').split(':').filter((dir) => dir.startsWith('/')), ...systemPath];
  for (const dir of dirs) {
    const path = join(dir, name);
    try {
      accessSync(path, constants.X_OK);
      return path;
    } catch {
      // not here; keep looking
    }
  }
  return undefined;
}
