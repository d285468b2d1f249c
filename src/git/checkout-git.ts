// The git command NixSpace runs on a workspace's working copy. The working copy belongs to the
// workspace, its configuration included, so the command runs inside the workspace's sandbox (see
// the caller) and is shielded from what the workspace may have set: no hooks, no fsmonitor, no
// signature programs, no transport, no submodule recursion, and an environment of its own.
// Filters (.gitattributes with a configured smudge/clean program, git-lfs) still apply: they are
// how the repository's files are meant to be written, and they run in the sandbox only.

import type { GitResult } from './run-git.js';

/** Runs git with these arguments on one working copy. */
export type CheckoutGit = (args: readonly string[]) => Promise<GitResult>;

// Command-line settings override the repository's and the user's configuration.
const shield = {
  // Programs git would otherwise start from the repository's configuration.
  'core.fsmonitor': 'false',
  'core.hooksPath': '/dev/null',
  'log.showSignature': 'false',
  'commit.gpgSign': 'false',
  // Nothing fetches: objects come from the mirror through alternates, lazily fetching none.
  'protocol.allow': 'never',
  'credential.helper': '',
  'core.askPass': '',
  // NixSpace's operation stays on the checkout itself, and finishes without side work.
  'submodule.recurse': 'false',
  'gc.auto': '0',
  'maintenance.auto': 'false',
  'color.ui': 'false',
  'advice.detachedHead': 'false',
} as const;

const systemPath = '/usr/local/bin:/usr/bin:/bin';

/**
 * The argv that runs `git args` on the working copy `workTree`, for `Sandbox.command`: started
 * through `env -i` so that nothing of the sandbox's environment (the workspace's own variables,
 * GIT_DIR, GIT_CONFIG_PARAMETERS, a PATH with a workspace's `git` first) reaches git.
 */
export function checkoutGitArgv(workTree: string, args: readonly string[]): string[] {
  const env = {
    PATH: systemPath,
    // No user configuration, attributes or excludes: results depend on the repository alone.
    HOME: '/nonexistent',
    GIT_CONFIG_NOSYSTEM: '1',
    GIT_CONFIG_GLOBAL: '/dev/null',
    GIT_ATTR_NOSYSTEM: '1',
    GIT_DIR: `${workTree}/.git`,
    GIT_WORK_TREE: workTree,
    GIT_TERMINAL_PROMPT: '0',
    // Messages are parsed in English.
    LC_ALL: 'C',
    LANGUAGE: 'C',
  };
  return [
    '/usr/bin/env',
    '-i',
    ...Object.entries(env).map(([name, value]) => `${name}=${value}`),
    'git',
    ...Object.entries(shield).flatMap(([key, value]) => ['-c', `${key}=${value}`]),
    ...args,
  ];
}
