// Creation: from a Git URL (or, for a branch, another workspace's files) to a running sandbox.
// resolve → fetch → checkout → detect → build → sandbox → install → services → ready, each step
// recorded as it runs; a creation that fails or is cancelled leaves nothing behind.

import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { formatBytes } from '../../git/git-errors.js';
import { parseRepoUrl } from '../../git/repo-url.js';
import type { RepoUrl, ResolvedRef } from '../../git/source.js';
import { giveTree } from '../../runtime/host/give-tree.js';
import type { WorkspaceRow } from '../../store/schema.js';
import { insertWorkspace } from '../../store/workspace-queries.js';
import type { User } from '../access/access-service.js';
import { buildStep, detectWithChanges, installStep, servicesStep } from './environment-steps.js';
import { recordVersion } from './environment-versions.js';
import type { FailurePolicy } from './step-runner.js';
import type { WorkspaceContext } from './workspace-context.js';
import { failIfFull, makeWorkspaceDir, removeFiles } from './workspace-files.js';
import { normaliseRef } from './workspace-input.js';
import { workspaceUser } from './workspace-user.js';
import { pendingSteps, type WorkspaceView } from './workspace-view.js';

/** Where a branch's files come from: the workspace it branches, copied before its ref is checked out. */
export interface BranchSource {
  row: WorkspaceRow;
  /** Makes the branch's files from the source's; says what was done (the checkout step's detail). */
  copyFiles(resolved: ResolvedRef, signal: AbortSignal): Promise<string>;
}

export interface CreateInput {
  repoUrl: string;
  ref?: string | null | undefined;
  /** The sandbox driver it runs on (one the server has); absent: the server's default. */
  sandbox?: string | null | undefined;
}

/** Validates the source and starts creating the workspace; progress follows as events. */
export async function createWorkspace(
  ctx: WorkspaceContext,
  user: User,
  input: CreateInput,
): Promise<WorkspaceView> {
  const repo = parseRepoUrl(input.repoUrl);
  const ref = normaliseRef(input.ref);
  // A driver this server lacks is refused before anything exists.
  const driver = ctx.drivers.choose(input.sandbox);
  await ctx.options.sources.admit(repo);
  const row = await insertWorkspace(ctx.options.store.db, {
    id: crypto.randomUUID(),
    ownerId: user.id,
    name: repo.displayName,
    repoUrl: repo.url,
    ref,
    steps: pendingSteps(),
    ...ctx.lifetimeFromNow(),
    sandboxDriver: driver.name,
  });
  ctx.pipelines.start(row.id, (signal) => runCreation(ctx, row, repo, ref, signal));
  return ctx.view(row);
}

/** A failed creation leaves nothing behind: no sandbox, no processes, no checkout. */
export function creationFailure(ctx: WorkspaceContext, id: string): FailurePolicy {
  return {
    what: 'creation',
    status: 'failed',
    async cleanup() {
      await ctx.sandboxes.stop(id).catch(() => {});
      await removeFiles(ctx, id);
    },
  };
}

export async function runCreation(
  ctx: WorkspaceContext,
  row: WorkspaceRow,
  repo: RepoUrl,
  ref: string | null,
  signal: AbortSignal,
  /** A branch starts from this workspace's files and environment instead of a fresh clone. */
  branch?: BranchSource,
): Promise<void> {
  const id = row.id;
  const source = branch?.row;
  const dir = ctx.workspaceDir(id);
  const runner = ctx.runner(id, pendingSteps(), signal);
  const run = runner.run.bind(runner);
  await runner.pipeline(
    async () => {
      const resolved: ResolvedRef = await run('resolve', 'fetching', async () => {
        if (source && ref === null) {
          // A branch without a ref starts where its source is.
          const value: ResolvedRef = {
            commit: source.commit_id ?? '',
            refName: source.ref ?? undefined,
            branch: source.branch ?? undefined,
          };
          return { value, detail: `${source.name} at ${value.commit.slice(0, 12)}` };
        }
        const value = await ctx.options.git.resolveRef(repo, ref ?? undefined, { signal });
        return { value, detail: `${value.refName ?? 'commit'} → ${value.commit.slice(0, 12)}` };
      });
      await run('fetch', 'fetching', async () => {
        const fetched = await ctx.options.git.fetch(repo, {
          commit: resolved.commit,
          advertised: resolved.provisional !== true,
          signal,
          onProgress: (line) => ctx.log(id, 'fetch', line),
        });
        const commit = fetched.commit ?? resolved.commit;
        resolved.commit = commit;
        return {
          value: undefined,
          detail: `mirror ${formatBytes(fetched.sizeBytes)}`,
          patch: { commitId: commit, branch: resolved.branch ?? null },
        };
      });
      await run('checkout', 'fetching', async () => {
        if (branch) return { value: undefined, detail: await branch.copyFiles(resolved, signal) };
        await makeWorkspaceDir(ctx, id);
        await mkdir(join(dir, 'home'), { recursive: true });
        await ctx.options.git
          .checkout(repo, resolved, join(dir, 'repo'), { signal })
          .catch((error: unknown) => failIfFull(ctx, error, `the checkout of ${repo.displayName}`));
        // The files become the workspace user's before any sandbox can write them.
        await giveTree(dir, workspaceUser(row.owner_id));
        return { value: undefined, detail: resolved.branch ? `branch ${resolved.branch}` : 'detached HEAD' };
      });
      const repoDir = join(dir, 'repo');
      const detection = await run('detect', 'building', async () => detectWithChanges(ctx, row, repoDir));
      const spec = detection.spec;
      const parentEnvironmentId = source?.environment_id ?? null;
      const built = await run('build', 'building', () =>
        buildStep(ctx, id, spec, repoDir, detection.diagnostics, signal, parentEnvironmentId),
      );
      if (built) {
        const at = ref ?? resolved.branch ?? resolved.commit.slice(0, 12);
        await recordVersion(ctx, row, built, spec, {
          commit: resolved.commit,
          previousEnvironmentId: parentEnvironmentId,
          message: source ? `branched from ${source.name} at ${at}` : `created at ${at}`,
        });
      }
      await run('sandbox', 'starting', async () => {
        await ctx.sandboxes.bringUp(row, { activation: built?.activation, spec: undefined });
        const driver = ctx.drivers.of(row);
        return {
          value: undefined,
          detail: `${driver.name}${driver.capabilities.isolation ? '' : ' (not isolated)'}`,
        };
      });
      await run('install', 'starting', () => installStep(ctx, id, spec, built, signal));
      await run('services', 'starting', () => servicesStep(ctx, row, spec, built, signal));
      await run('ready', 'running', async () => {
        ctx.sandboxes.startIde(id);
        return { value: undefined, detail: null, patch: { status: 'running' } };
      });
    },
    creationFailure(ctx, id),
  );
}
