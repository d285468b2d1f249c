// Switching: moves a running workspace to another branch, tag or commit in place. The git part
// (resolve, fetch, check out) happens before the caller is answered: an unknown ref or uncommitted
// work that the policy does not allow to move fails with nothing changed. The environment half
// follows as a pipeline: re-detect, build or reuse by hash, and when the environment changed,
// restart the sandbox (its shells and services) with the new one. Files are never recreated.

import { join } from 'node:path';
import { NixSpaceError } from '../../errors.js';
import { formatBytes } from '../../git/git-errors.js';
import { parseRepoUrl } from '../../git/repo-url.js';
import { type SwitchResult, switchCheckout, type UncommittedPolicy } from '../../git/switch-checkout.js';
import type { WorkspaceRow } from '../../store/schema.js';
import type { User } from '../access/access-service.js';
import { buildStep, detectWithChanges, installStep, servicesStep } from './environment-steps.js';
import { recordVersion } from './environment-versions.js';
import { type FailurePolicy, timeStep } from './step-runner.js';
import { checkoutGit } from './workspace-checkout-git.js';
import type { WorkspaceContext } from './workspace-context.js';
import { normaliseRef } from './workspace-input.js';
import type { RunningJobsPolicy } from './workspace-options.js';
import { pendingSteps, type WorkspaceView } from './workspace-view.js';

export interface SwitchInput {
  ref: string;
  uncommitted?: UncommittedPolicy | null | undefined;
  jobs?: RunningJobsPolicy | null | undefined;
}

export async function switchWorkspace(
  ctx: WorkspaceContext,
  user: User,
  id: string,
  input: SwitchInput,
): Promise<{ workspace: WorkspaceView; switched: SwitchResult }> {
  const ref = normaliseRef(input.ref);
  if (ref === null) throw new NixSpaceError('BAD_REQUEST', 'Name the branch, tag or commit to switch to');
  await ctx.owned(user, id);
  return ctx.locked(id, async () => {
    const row = await ctx.owned(user, id);
    if (row.status !== 'running' || !ctx.sandboxes.has(id)) {
      throw new NixSpaceError(
        'CONFLICT',
        `Workspace ${row.name} is ${row.status}; only a running workspace can switch`,
      );
    }
    // Jobs would lose their files (and, when the environment changes, their sandbox) mid-run.
    const running = ctx.options.jobs.runningIn(id) ?? [];
    if (running.length > 0 && (input.jobs ?? 'refuse') === 'refuse') {
      const names = running.map((job) => job.command).join(', ');
      throw new NixSpaceError(
        'JOBS_RUNNING',
        `${running.length === 1 ? 'A job is' : `${running.length} jobs are`} running in ${row.name} (${names}); wait for ${running.length === 1 ? 'it' : 'them'} to finish, or switch with jobs: "cancel"`,
      );
    }
    const repo = parseRepoUrl(row.repo_url);
    const steps = pendingSteps();
    // Nothing is recorded until the checkout succeeded: a refused switch leaves the row as it was.
    const resolved = await timeStep(steps, 'resolve', async () => {
      const value = await ctx.options.git.resolveRef(repo, ref, {});
      return { value, detail: `${value.refName ?? 'commit'} → ${value.commit.slice(0, 12)}` };
    });
    if (running.length > 0)
      await ctx.options.jobs.cancelIn(id, `cancelled: the workspace is switching to ${ref}`);
    await timeStep(steps, 'fetch', async () => {
      const fetched = await ctx.options.git.fetch(repo, {
        commit: resolved.commit,
        advertised: resolved.provisional !== true,
        onProgress: (line) => ctx.log(id, 'fetch', line),
      });
      resolved.commit = fetched.commit ?? resolved.commit;
      return { value: undefined, detail: `mirror ${formatBytes(fetched.sizeBytes)}` };
    });
    const switched = await timeStep(steps, 'checkout', async () => {
      const value = await checkoutGit(ctx, id, undefined, (git) =>
        switchCheckout({ git, resolved, label: ref, uncommitted: input.uncommitted ?? 'refuse' }),
      );
      const parts = [value.branch ? `branch ${value.branch}` : 'detached HEAD'];
      if (value.stash) parts.push(`${value.uncommitted.length} changed files stashed as "${value.stash}"`);
      else if (value.uncommitted.length) parts.push(`${value.uncommitted.length} changed files carried over`);
      if (value.note) parts.push(value.note);
      return { value, detail: parts.join('; ') };
    });
    const saved = await ctx.save(id, {
      status: 'switching',
      ref,
      commitId: switched.commit,
      branch: switched.branch,
      steps,
      error: null,
    });
    ctx.pipelines.start(id, (signal) => finishSwitch(ctx, saved, steps, signal));
    return { workspace: ctx.view(saved), switched };
  });
}

/** The files stay: a failed switch keeps the checkout, stopped with the reason, to start again. */
export function switchFailure(ctx: WorkspaceContext, id: string): FailurePolicy {
  return {
    what: 'switch',
    status: 'stopped',
    cleanup: () => ctx.sandboxes.stop(id),
  };
}

/** The environment half of a switch, streamed as steps like creation. */
async function finishSwitch(
  ctx: WorkspaceContext,
  row: WorkspaceRow,
  steps: ReturnType<typeof pendingSteps>,
  signal: AbortSignal,
): Promise<void> {
  const id = row.id;
  const runner = ctx.runner(id, steps, signal);
  const run = runner.run.bind(runner);
  const repoDir = join(ctx.workspaceDir(id), 'repo');
  const previous = row.environment;
  await ctx.locked(id, () =>
    runner.pipeline(
      async () => {
        const detection = await run('detect', 'switching', async () => detectWithChanges(ctx, row, repoDir));
        const spec = detection.spec;
        const built = await run('build', 'switching', () =>
          buildStep(ctx, id, spec, repoDir, detection.diagnostics, signal, row.environment_id),
        );
        const changed = built === undefined || previous?.hash !== built.row.hash;
        if (built && changed) {
          await recordVersion(ctx, row, built, spec, {
            commit: row.commit_id ?? '',
            previousEnvironmentId: row.environment_id,
            message: `switched to ${row.ref ?? row.commit_id?.slice(0, 12)}`,
          });
        }
        await run('sandbox', 'switching', async () => {
          if (!changed) return { value: undefined, status: 'skipped', detail: 'environment unchanged' };
          // Shells and services start from the environment: restart them with the new one.
          await ctx.sandboxes.stop(id);
          await ctx.sandboxes.bringUp(row, { activation: built?.activation, spec: undefined });
          return { value: undefined, detail: 'restarted with the new environment' };
        });
        await run('install', 'switching', () => installStep(ctx, id, spec, built, signal));
        await run('services', 'switching', async () => {
          if (!changed && ctx.sandboxes.get(id)?.services) {
            return { value: undefined, status: 'skipped', detail: 'environment unchanged; services kept' };
          }
          return servicesStep(ctx, row, spec, built, signal);
        });
        await run('ready', 'running', async () => {
          // A restarted sandbox starts its IDE again, with the new environment.
          ctx.sandboxes.startIde(id);
          return { value: undefined, detail: null, patch: { status: 'running' } };
        });
      },
      switchFailure(ctx, id),
    ),
  );
}
