// Branching: a new workspace whose parent is another, starting from its files (a copy-on-write
// copy where the filesystem allows, uncommitted work included) and, with a ref, moved to that
// branch, tag or commit. Its environment is built (or reused by hash) as a child of the parent's.

import { join } from 'node:path';
import { NixSpaceError } from '../../errors.js';
import { parseRepoUrl } from '../../git/repo-url.js';
import type { ResolvedRef } from '../../git/source.js';
import { switchCheckout } from '../../git/switch-checkout.js';
import { giveTree } from '../../runtime/host/give-tree.js';
import type { WorkspaceRow } from '../../store/schema.js';
import { insertWorkspace } from '../../store/workspace-queries.js';
import type { User } from '../access/access-service.js';
import { type EnvChanges, mergeEnvChanges, parseEnvChanges } from '../environments/env-changes.js';
import { copyTreeFromBelow } from '../files/copy-tree.js';
import { runCreation } from './create-pipeline.js';
import { checkoutGit } from './workspace-checkout-git.js';
import type { WorkspaceContext } from './workspace-context.js';
import { failIfFull, makeWorkspaceDir } from './workspace-files.js';
import { normaliseRef } from './workspace-input.js';
import { workspaceUser } from './workspace-user.js';
import { pendingSteps, type WorkspaceView } from './workspace-view.js';

/** Validates the branch asked for and starts making it; progress streams like creation. */
export async function branchWorkspace(
  ctx: WorkspaceContext,
  user: User,
  id: string,
  input: { ref?: string | null | undefined; changes?: unknown; sandbox?: string | null | undefined },
): Promise<WorkspaceView> {
  // Bad changes are refused before anything exists.
  const asked =
    input.changes === undefined || input.changes === null ? undefined : parseEnvChanges(input.changes);
  const source = await ctx.owned(user, id);
  if (!['running', 'stopped', 'hibernated'].includes(source.status) || !source.commit_id) {
    throw new NixSpaceError(
      'CONFLICT',
      `Workspace ${source.name} is ${source.status}; only a running, stopped or hibernated workspace can be branched`,
    );
  }
  const ref = normaliseRef(input.ref);
  const repo = parseRepoUrl(source.repo_url);
  // A branch runs where its source runs unless it asks for another driver.
  const driver = input.sandbox ? ctx.drivers.choose(input.sandbox) : ctx.drivers.of(source);
  const row = await insertWorkspace(ctx.options.store.db, {
    id: crypto.randomUUID(),
    ownerId: user.id,
    name: source.name,
    repoUrl: source.repo_url,
    ref: ref ?? source.ref,
    steps: pendingSteps(),
    ...ctx.lifetimeFromNow(),
    parentId: source.id,
    sandboxDriver: driver.name,
    // A branch keeps the changes of the workspace it came from, with its own on top.
    environmentChanges: asked
      ? mergeEnvChanges(source.environment_changes as EnvChanges | null, asked)
      : source.environment_changes,
  });
  ctx.pipelines.start(row.id, (signal) =>
    runCreation(ctx, row, repo, ref, signal, {
      row: source,
      copyFiles: (resolved, copySignal) => branchFiles(ctx, source, row, resolved, ref, copySignal),
    }),
  );
  return ctx.view(row);
}

/** The files of a branch: the source's checkout and home, then the ref the branch asked for. */
async function branchFiles(
  ctx: WorkspaceContext,
  source: WorkspaceRow,
  row: WorkspaceRow,
  resolved: ResolvedRef,
  ref: string | null,
  signal: AbortSignal,
): Promise<string> {
  const from = ctx.workspaceDir(source.id);
  const to = ctx.workspaceDir(row.id);
  await makeWorkspaceDir(ctx, row.id);
  let copyOnWrite = true;
  // The parent's tree is its sandbox's to rearrange: it is copied from below the parent's
  // directory, never through a symlink (a `repo` or `home` that is one is not copied).
  for (const part of ['repo', 'home']) {
    signal.throwIfAborted();
    const copied = await copyTreeFromBelow(from, part, join(to, part)).catch((error: unknown) =>
      failIfFull(ctx, error, `the files of ${source.name}`),
    );
    if (!copied && part === 'repo')
      throw new NixSpaceError(
        'CONFLICT',
        `The checkout of ${source.name} is not a directory: it cannot be branched`,
      );
    copyOnWrite &&= copied === 'copy-on-write';
  }
  // The installed dependencies came along with the files: so does the server's record of what
  // they are, and an unchanged install is not run again in the branch.
  await ctx.options.installer.copyRecord(source.id, row.id);
  // The copy becomes the workspace user's before its git (in a sandbox as that user) or anything
  // else of the branch's runs in it.
  await giveTree(to, workspaceUser(row.owner_id));
  const parts = [`files of ${source.name} ${copyOnWrite ? 'cloned copy-on-write' : 'copied'}`];
  if (ref !== null && resolved.commit !== source.commit_id) {
    // The branch owns the copied work: bring it along, or keep it in a stash if it clashes.
    const switched = await checkoutGit(ctx, row.id, signal, async (git) => {
      const request = { git, resolved, label: ref };
      return switchCheckout({ ...request, uncommitted: 'carry' }).catch((error: unknown) => {
        if (error instanceof NixSpaceError && error.code === 'UNCOMMITTED_CHANGES') {
          return switchCheckout({ ...request, uncommitted: 'stash' });
        }
        throw error;
      });
    });
    parts.push(switched.branch ? `branch ${switched.branch}` : 'detached HEAD');
    if (switched.stash) parts.push(`uncommitted work stashed as "${switched.stash}"`);
    else if (switched.uncommitted.length)
      parts.push(`${switched.uncommitted.length} changed files carried over`);
  }
  return parts.join('; ');
}
