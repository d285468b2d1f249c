// A workspace's working copy: a clone that borrows every object from the mirror through
// alternates (`clone --shared`), so it costs only the files written, never an object copy.
// Not `git worktree add`: a worktree keeps its metadata and every new commit inside the mirror,
// which would make the mirror writable by the workspace's sandbox.
// Its own index, refs and new commits live in the target directory, which the sandbox may write,
// while the mirror stays read-only to it. The alternates file holds the mirror's absolute path,
// so a sandbox must mount the mirror at the same path.

import { access, readdir, rm } from 'node:fs/promises';
import { NixSpaceError } from '../errors.js';
import { formatSeconds, redactText } from './git-errors.js';
import { type GitResult, GitTimeoutError, runGit } from './run-git.js';
import type { RepoUrl, ResolvedRef } from './source.js';

export interface CheckoutRequest {
  repo: RepoUrl;
  resolved: ResolvedRef;
  mirrorDir: string;
  targetDir: string;
  timeoutMs: number;
  signal?: AbortSignal;
}

export async function checkoutFromMirror(request: CheckoutRequest): Promise<void> {
  const { repo, resolved, mirrorDir, targetDir } = request;
  const existed = await exists(targetDir);
  if (existed && (await readdir(targetDir)).length > 0) {
    throw new NixSpaceError(
      'CONFLICT',
      `Cannot check out ${repo.displayName} into ${targetDir}: it is not empty`,
    );
  }
  const deadline = Date.now() + request.timeoutMs;
  const run = (args: string[], what: string): Promise<GitResult> =>
    runGit(args, {
      timeoutMs: Math.max(1, deadline - Date.now()),
      ...(request.signal === undefined ? {} : { signal: request.signal }),
    }).catch((error: unknown) => {
      if (!(error instanceof GitTimeoutError)) throw error;
      throw new NixSpaceError(
        'GIT_FAILED',
        `Checking out ${repo.displayName} took longer than ${formatSeconds(request.timeoutMs)} (${what})`,
        { cause: error },
      );
    });
  const step = async (args: string[], what: string): Promise<GitResult> => {
    const result = await run(args, what);
    // A file git could not write (a full disk) is only an `error:` line: checkout still exits 0.
    if (result.code !== 0 || /^error: /m.test(result.stderr)) {
      const detail = redactText(result.stderr).trim();
      throw new NixSpaceError(
        'GIT_FAILED',
        `Could not check out ${repo.displayName} at ${resolved.commit.slice(0, 12)}: ${what} failed (${firstProblem(detail)})`,
        detail === '' ? {} : { detail },
      );
    }
    return result;
  };
  const inTarget = (...args: string[]): string[] => ['-C', targetDir, ...args];

  try {
    // Refs come along as origin/* remote-tracking branches and tags; objects stay in the mirror.
    await step(
      ['clone', '--shared', '--no-checkout', '--quiet', '--', mirrorDir, targetDir],
      'cloning from the mirror',
    );
    await step(inTarget('remote', 'set-url', 'origin', repo.safeUrl), 'pointing origin upstream');

    const verify = await run(
      inTarget('rev-parse', '--verify', '--quiet', `${resolved.commit}^{commit}`),
      'finding the commit',
    );
    const commit = verify.stdout.trim();
    if (verify.code !== 0 || commit === '') {
      throw new NixSpaceError(
        'REF_NOT_FOUND',
        `Commit ${resolved.commit} of ${repo.displayName} is not in the local mirror: fetch it first`,
      );
    }

    if (resolved.branch !== undefined) {
      await step(inTarget('checkout', '--quiet', '-B', resolved.branch, commit, '--'), 'checking out');
      const tracking = await run(
        inTarget('rev-parse', '--verify', '--quiet', `refs/remotes/origin/${resolved.branch}`),
        'finding the upstream branch',
      );
      if (tracking.code === 0) {
        await step(
          inTarget('branch', '--quiet', `--set-upstream-to=origin/${resolved.branch}`, resolved.branch),
          'setting the upstream branch',
        );
      }
    } else {
      await step(inTarget('checkout', '--quiet', '--detach', commit, '--'), 'checking out');
    }
  } catch (error) {
    if (existed) await emptyDir(targetDir);
    else await rm(targetDir, { recursive: true, force: true, maxRetries: 3 });
    throw error;
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await access(path);
    return true;
  } catch {
    return false;
  }
}

/** A target directory the caller created (e.g. a mount point) is emptied, not removed. */
async function emptyDir(dir: string): Promise<void> {
  const names = await readdir(dir).catch(() => [] as string[]);
  await Promise.all(
    names.map((name) => rm(`${dir}/${name}`, { recursive: true, force: true, maxRetries: 3 })),
  );
}

function firstProblem(stderr: string): string {
  const line =
    stderr.split('\n').find((l) => /^(fatal|error):/.test(l.trim())) ?? stderr.split('\n')[0] ?? '';
  return line.replace(/^(fatal|error):\s*/, '').trim() || 'no message';
}
