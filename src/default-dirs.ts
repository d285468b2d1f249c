// Where NixSpace keeps things by default, without the configuration's validation (which the
// command line's client commands do not need to load).

import { homedir } from 'node:os';
import { join, resolve } from 'node:path';

export function defaultDataDir(env: NodeJS.ProcessEnv = process.env): string {
  const base = env.XDG_DATA_HOME || join(env.HOME || homedir(), '.local', 'share');
  return join(base, 'nixspace');
}

/** code-server is installed once per machine: under the user's cache, not a data directory. */
export function defaultIdeDir(env: NodeJS.ProcessEnv = process.env): string {
  return defaultCacheDir('ide', env);
}

/** A machine-wide cache directory of NixSpace (`~/.cache/nixspace/<name>`). */
export function defaultCacheDir(name: string, env: NodeJS.ProcessEnv = process.env): string {
  const base = env.XDG_CACHE_HOME || join(env.HOME || homedir(), '.cache');
  return join(base, 'nixspace', name);
}

/** The data directory a server started with this environment uses (NIXSPACE_DATA_DIR or the default). */
export function dataDirFromEnv(env: NodeJS.ProcessEnv = process.env): string {
  return resolve(env.NIXSPACE_DATA_DIR || defaultDataDir(env));
}
