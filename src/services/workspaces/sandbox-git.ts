// git on a workspace's working copy, run inside a sandbox of that workspace: the working copy,
// its .git included, is the workspace's to write, so git never reads it on the host.

import { rm } from 'node:fs/promises';
import { NixSpaceError } from '../../errors.js';
import { type CheckoutGit, checkoutGitArgv } from '../../git/checkout-git.js';
import { formatSeconds } from '../../git/git-errors.js';
import { KeyMutex } from '../../git/key-mutex.js';
import { RuntimeSandbox } from '../../runtime/runtime-sandbox.js';
import type { Sandbox, SandboxDriver, SandboxSpec } from '../../runtime/sandbox.js';
import { execInSandbox } from '../../runtime/sandbox-exec.js';

// `git status` of a large tree lists every changed path: keep far more than a probe's output.
const maxOutputBytes = 16 * 1024 * 1024;

/** A git runner for the working copy `workTree`, inside `sandbox`. */
export function sandboxGit(
  sandbox: Sandbox,
  workTree: string,
  options: { timeoutMs: number; signal?: AbortSignal | undefined },
): CheckoutGit {
  return async (args) => {
    const result = await execInSandbox(sandbox, checkoutGitArgv(workTree, args), {
      cwd: workTree,
      timeoutMs: options.timeoutMs,
      maxOutputBytes,
      ...(options.signal ? { signal: options.signal } : {}),
    });
    if (result.timedOut) {
      const command = args.find((arg, i) => !arg.startsWith('-') && args[i - 1] !== '-c') ?? '';
      throw new NixSpaceError(
        'GIT_FAILED',
        `git ${command} did not finish within ${formatSeconds(options.timeoutMs)} in the workspace`,
      );
    }
    // A program killed by a signal (not the time limit) failed as git does then.
    return { code: result.code ?? 128, stdout: result.stdout, stderr: result.stderr };
  };
}

// One short-lived git sandbox per workspace at a time: its id (and cgroup) is per workspace.
const shortLived = new KeyMutex();

/**
 * Runs `work` with a sandbox started from `spec` just for it (the workspace's own is not
 * running), and stops the sandbox afterwards.
 */
export function withShortLivedSandbox<T>(
  driver: SandboxDriver,
  spec: SandboxSpec,
  work: (sandbox: Sandbox) => Promise<T>,
  signal?: AbortSignal,
): Promise<T> {
  return shortLived.run(spec.id, async () => {
    const sandbox = await RuntimeSandbox.start(driver, spec, signal ? { signal } : {});
    try {
      return await work(sandbox);
    } finally {
      await sandbox.stop();
      if (spec.agentDir !== undefined) await rm(spec.agentDir, { recursive: true, force: true });
    }
  });
}
