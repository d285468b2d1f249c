// Spec → plan: the flake that will be built (the repo's own, or one generated from the spec) and
// the hash that names the environment. Shared by the providers so both hash the same way.

import type { EnvSpec } from '../detect/env-spec.js';
import { NixSpaceError } from '../errors.js';
import { readBelow } from '../runtime/host/workspace-file.js';
import { environmentHash } from './environment-hash.js';
import type { EnvironmentPlan } from './environment-provider.js';
import { generateFlake } from './generate-flake.js';

/** Far more than any flake.nix or flake.lock a repository holds. */
const MAX_FLAKE_BYTES = 4 * 1024 * 1024;

/** A flake file of the checkout (which the workspace can write), read without following symlinks. */
async function readFlakeFile(repoDir: string, file: string): Promise<string | null> {
  const outcome = await readBelow(repoDir, file, { maxBytes: MAX_FLAKE_BYTES });
  if (outcome.ok) return outcome.content.toString('utf8');
  if (outcome.why === 'absent') return null;
  const why = {
    symlink: 'is a symlink',
    'not-a-file': 'is not a regular file',
    'too-large': `is larger than ${MAX_FLAKE_BYTES / 1024 / 1024} MiB`,
    'bad-path': 'is not a path in the repository',
  }[outcome.why];
  throw new NixSpaceError('BAD_REQUEST', `The repository's ${file} ${why}: it is not used`);
}

/**
 * The repo's own flake.nix and flake.lock, as they are. Only these two files enter the hash: a
 * flake that imports other files of the repo (./nix/shell.nix) is rebuilt by Nix when they
 * change, but keeps its environment hash.
 */
export async function readRepoFlake(repoDir: string): Promise<{ content: string; lock: string | null }> {
  const content = await readFlakeFile(repoDir, 'flake.nix');
  if (content === null) {
    throw new NixSpaceError(
      'BAD_REQUEST',
      'the spec says the repository has a flake.nix, but there is none',
      {
        detail: repoDir,
      },
    );
  }
  return { content, lock: await readFlakeFile(repoDir, 'flake.lock') };
}

/** A Nix plan: the repo's flake used as-is, else a generated one (throws UNSUPPORTED_VERSION). */
export async function planNixEnvironment(spec: EnvSpec, repoDir: string): Promise<EnvironmentPlan> {
  if (spec.flake !== null) {
    const own = await readRepoFlake(repoDir);
    return {
      hash: environmentHash({ spec, provider: 'nix', flake: own }),
      provider: 'nix',
      flake: { ...own, generated: false },
      spec,
      supplied: [],
      notes: [{ severity: 'info', message: "using the repository's own flake.nix (its devShell), as-is" }],
      repoDir,
    };
  }
  const generated = generateFlake(spec);
  const flake = { content: generated.content, lock: generated.lock };
  return {
    hash: environmentHash({ spec, provider: 'nix', flake }),
    provider: 'nix',
    flake: { ...flake, generated: true },
    spec,
    supplied: generated.supplied,
    notes: generated.notes,
    repoDir,
  };
}

/** A host plan: nothing is generated; the hash covers the spec's build-relevant facts. */
export function planHostEnvironment(spec: EnvSpec, repoDir: string): EnvironmentPlan {
  return {
    hash: environmentHash({ spec, provider: 'host', flake: null }),
    provider: 'host',
    flake: null,
    spec,
    supplied: [],
    // The host provider says why Nix was not used, and that the result is not reproducible.
    notes: [],
    repoDir,
  };
}
