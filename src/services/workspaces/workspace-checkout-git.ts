// Git on a workspace's checkout, always inside a sandbox as the workspace's user: the checkout is
// the workspace's to rearrange, so the host never runs git in it.

import { join } from 'node:path';
import { NixSpaceError } from '../../errors.js';
import type { CheckoutGit } from '../../git/checkout-git.js';
import type { SandboxSpec } from '../../runtime/sandbox.js';
import { sandboxGit, withShortLivedSandbox } from './sandbox-git.js';
import type { WorkspaceContext } from './workspace-context.js';
import { workspaceUser } from './workspace-user.js';

/**
 * Runs git on the workspace's checkout inside its sandbox: the running one, or, while the
 * workspace is stopped (or a branch's is not started yet), a short-lived one over the same files
 * that sees the mirrors the checkout borrows its objects from.
 */
export async function checkoutGit<T>(
  ctx: WorkspaceContext,
  id: string,
  signal: AbortSignal | undefined,
  work: (git: CheckoutGit) => Promise<T>,
): Promise<T> {
  const repoDir = join(ctx.workspaceDir(id), 'repo');
  const options = { timeoutMs: ctx.options.git.timeoutMs, signal };
  const live = ctx.sandboxes.get(id);
  if (live && !live.stopping) return work(sandboxGit(live.sandbox, repoDir, options));
  const row = await ctx.records.find(id);
  if (!row) throw new NixSpaceError('NOT_FOUND', `Workspace ${id} not found`);
  const driver = ctx.drivers.of(row);
  const spec: SandboxSpec = {
    id: `${id}-git`,
    user: workspaceUser(row.owner_id),
    workspaceDir: ctx.workspaceDir(id),
    agentDir: ctx.agentDir(`${id}-git`),
    readOnlyPaths: [ctx.mirrorOf(row)],
    hiddenPaths: ctx.options.hiddenPaths ?? [],
    network: ctx.networkFor('none', driver),
    limits: ctx.options.limits,
    hostname: `ws-${id.slice(0, 8)}`,
  };
  return withShortLivedSandbox(
    driver,
    spec,
    (sandbox) => work(sandboxGit(sandbox, repoDir, options)),
    signal,
  );
}
