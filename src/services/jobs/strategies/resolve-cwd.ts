// A job's working directory: relative paths start at the repository; the result must exist.

import { existsSync, statSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { NixSpaceError } from '../../../errors.js';

export function resolveCwd(base: string, cwd: string | undefined): string {
  if (!cwd) return base;
  const dir = isAbsolute(cwd) ? cwd : resolve(base, cwd);
  if (!existsSync(dir) || !statSync(dir).isDirectory()) {
    throw new NixSpaceError('BAD_REQUEST', `The working directory ${cwd} does not exist in the workspace`);
  }
  return dir;
}
