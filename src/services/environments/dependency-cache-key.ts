// What identifies an install in the dependency cache. What is installed, and what runs while it
// installs, is said by the lockfile and by every byte of the manifest the install reads (its
// scripts run: a `postinstall` is part of the install). A locked install is reused by every
// workspace of its owner; without a lockfile, the first install of a manifest fixes what that
// resolved to, and is reused only within its scope (the workspace). No install is ever another
// owner's to trust: each owner's entries are keyed (and kept) apart.

import { createHash } from 'node:crypto';
import { readWorkspaceFile } from '../../runtime/host/workspace-file.js';
import type { InstallPlan } from './dependency-plan.js';

/** Larger lockfiles and manifests than this are not read (and so never key the cache). */
const MAX_KEY_FILE_BYTES = 64 * 1024 * 1024;

export interface InstallKeys {
  /** The cache entry for this install; undefined when nothing is cached (no files to restore). */
  cache: string | undefined;
  /** Whether a lockfile of the repository keyed it; if not, a lockfile the install writes is its own. */
  locked: boolean;
  /** What the workspace records as installed, so an unchanged install is not run twice. */
  local: string | undefined;
}

export async function installKeys(
  plan: InstallPlan,
  repoDir: string,
  options: { environmentHash: string; cacheScope: string; ownerScope: string },
): Promise<InstallKeys> {
  const install = `${options.environmentHash}\0${plan.manager}\0${plan.script}\0`;
  const cacheable = plan.artifacts.length > 0;
  const lockfiles = await readKeyFiles(plan.lockfiles, repoDir);
  const manifests = await readKeyFiles(plan.manifests, repoDir);
  if (lockfiles.length > 0) {
    const files = [...lockfiles, ...manifests];
    return {
      cache: cacheable ? digest(`locked\0${options.ownerScope}\0${install}`, files) : undefined,
      locked: true,
      local: digest(`local-locked\0${install}`, files),
    };
  }
  if (manifests.length === 0) return { cache: undefined, locked: false, local: undefined };
  return {
    cache: cacheable
      ? digest(`manifest\0${options.ownerScope}\0${options.cacheScope}\0${install}`, manifests)
      : undefined,
    locked: false,
    // What the workspace has does not depend on the scope: a branch of it has the same install.
    local: `local-${digest(`local\0${install}`, manifests)}`,
  };
}

/** The named files that exist (as regular files), with their content. */
async function readKeyFiles(files: string[], repoDir: string): Promise<[string, Buffer][]> {
  const found: [string, Buffer][] = [];
  for (const file of files) {
    const content = await readWorkspaceFile(repoDir, file, MAX_KEY_FILE_BYTES);
    if (content !== undefined) found.push([file, content]);
  }
  return found;
}

function digest(preamble: string, files: [string, Buffer][]): string {
  const hash = createHash('sha256').update(preamble);
  for (const [file, content] of files) hash.update(`${file}\0`).update(content).update('\0');
  return hash.digest('hex');
}
