// Moving an existing working copy to another commit without losing anything in it. Uncommitted
// work (changes and untracked files) is refused by default, stashed under a named stash, or
// carried over when git can apply it cleanly; local branches with commits of their own are never
// moved backwards. Every failure leaves the working copy as it was. git runs through the caller's
// runner: the working copy belongs to the workspace, so it runs in the workspace's sandbox.

import { NixSpaceError } from '../errors.js';
import { UNCOMMITTED_CHOICES, type UncommittedPolicy } from '../wire/switching.js';
import type { CheckoutGit } from './checkout-git.js';
import { redactText } from './git-errors.js';
import type { GitResult } from './run-git.js';
import type { ResolvedRef } from './source.js';

export type { UncommittedPolicy };

/** A choice's name as a sentence uses it ("stash them"). */
const choice = (policy: UncommittedPolicy) => UNCOMMITTED_CHOICES[policy].label.toLowerCase();

export interface SwitchResult {
  /** The commit now checked out. */
  commit: string;
  /** The branch checked out, or null for a detached HEAD. */
  branch: string | null;
  /** Set when uncommitted work was stashed: the stash's message, as `git stash list` shows it. */
  stash: string | null;
  /** Files with uncommitted work that came along (carry) or were stashed. */
  uncommitted: string[];
  /** Why the result differs from a plain checkout, for the progress view. */
  note: string | null;
}

export interface SwitchRequest {
  /** Runs git on the working copy (bounded in time and cancelled by its own means). */
  git: CheckoutGit;
  resolved: ResolvedRef;
  /** Shown in the stash message: what the workspace switched to. */
  label: string;
  uncommitted: UncommittedPolicy;
}

// Stashing records a commit: give it an author that does not depend on the host's git config.
const identity = ['-c', 'user.name=NixSpace', '-c', 'user.email=nixspace@localhost'];

export async function switchCheckout(request: SwitchRequest): Promise<SwitchResult> {
  const { resolved } = request;
  const git = (args: string[]): Promise<GitResult> => request.git([...identity, ...args]);
  const must = async (args: string[], what: string): Promise<GitResult> => {
    const result = await git(args);
    if (result.code !== 0) {
      const detail = redactText(result.stderr).trim();
      throw new NixSpaceError('GIT_FAILED', `Could not switch: ${what} failed`, detail ? { detail } : {});
    }
    return result;
  };

  // Where the branch goes does not depend on the uncommitted work: both are read at once (each git
  // run in a sandbox costs a few process starts).
  const [status, { checkout, branch, note }] = await Promise.all([
    must(['status', '--porcelain=v1', '-z', '--untracked-files=all'], 'reading changes'),
    planCheckout(git, resolved),
  ]);
  const uncommitted = status.stdout
    .split('\0')
    .filter((entry) => entry.length > 3)
    .map((entry) => entry.slice(3));
  let stash: string | null = null;
  if (uncommitted.length > 0 && request.uncommitted === 'refuse') {
    throw new NixSpaceError(
      'UNCOMMITTED_CHANGES',
      `The workspace has uncommitted changes in ${uncommitted.length} file${uncommitted.length === 1 ? '' : 's'}: commit them, ${choice('stash')} or ${choice('carry')}`,
      { detail: uncommitted.slice(0, 20).join('\n') },
    );
  }
  if (uncommitted.length > 0 && request.uncommitted === 'stash') {
    stash = `nixspace: before switching to ${request.label} (${new Date().toISOString()})`;
    await must(['stash', 'push', '--include-untracked', '--message', stash], 'stashing the changes');
  }

  const target = resolved.commit;
  const moved = await git(checkout);
  if (moved.code !== 0) {
    const detail = redactText(moved.stderr).trim();
    if (stash !== null) {
      // Put the stashed work back where it was: the switch did not happen.
      await git(['stash', 'pop', '--index']);
    }
    const overwritten = /would be overwritten|untracked working tree files/.test(detail);
    throw new NixSpaceError(
      overwritten ? 'UNCOMMITTED_CHANGES' : 'GIT_FAILED',
      overwritten
        ? `The uncommitted changes cannot be carried over to ${request.label}: it changes the same files. ${UNCOMMITTED_CHOICES.stash.label}, or commit them first`
        : `Could not check out ${request.label}`,
      detail ? { detail } : {},
    );
  }
  return {
    commit: target,
    branch,
    stash,
    uncommitted,
    note,
  };
}

/** The checkout that moves to the target, and the branch it leaves checked out. */
async function planCheckout(
  git: (args: string[]) => Promise<GitResult>,
  resolved: ResolvedRef,
): Promise<{ checkout: string[]; branch: string | null; note: string | null }> {
  const target = resolved.commit;
  if (resolved.branch === undefined) {
    return { checkout: ['checkout', '--quiet', '--detach', target, '--'], branch: null, note: null };
  }
  const local = await git(['rev-parse', '--verify', '--quiet', `refs/heads/${resolved.branch}^{commit}`]);
  const localTip = local.stdout.trim();
  const behind =
    local.code !== 0 ||
    localTip === target ||
    (await git(['merge-base', '--is-ancestor', localTip, target])).code === 0;
  if (behind) {
    // No local branch yet, or it only lacks commits the target has: point it at the target.
    return {
      checkout: ['checkout', '--quiet', '-B', resolved.branch, target, '--'],
      branch: resolved.branch,
      note: null,
    };
  }
  return {
    checkout: ['checkout', '--quiet', '--detach', target, '--'],
    branch: null,
    note: `local branch ${resolved.branch} has commits of its own: it is kept as it is, and HEAD is detached at ${target.slice(0, 12)}`,
  };
}

/** The workspace's stashes, newest first, as `git stash list` names them. */
export async function listStashes(git: CheckoutGit): Promise<{ ref: string; message: string }[]> {
  const result = await git(['stash', 'list', '--format=%gd%x00%gs']);
  if (result.code !== 0) return [];
  return result.stdout
    .split('\n')
    .filter((line) => line.includes('\0'))
    .map((line) => {
      const [ref = '', message = ''] = line.split('\0');
      return { ref, message: message.replace(/^On [^:]+: /, '') };
    });
}
