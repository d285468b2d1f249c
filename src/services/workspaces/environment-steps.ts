// The environment steps that creation, branching and switching share: detect the checkout's
// needs, build (or reuse) its environment, install its dependencies and start its services.
// A build, install or service that fails is a soft failure: the workspace runs, for fixing.

import { rm } from 'node:fs/promises';
import type { EnvSpec } from '../../detect/env-spec.js';
import { NixSpaceError } from '../../errors.js';
import { RuntimeSandbox } from '../../runtime/runtime-sandbox.js';
import type { WorkspaceEnvironmentRecord, WorkspaceRow } from '../../store/schema.js';
import { installPlans } from '../environments/dependency-plan.js';
import {
  applyEnvChanges,
  describeEnvChanges,
  type EnvChanges,
  hasEnvChanges,
} from '../environments/env-changes.js';
import type { BuiltEnvironment } from '../environments/environment-service.js';
import { describeDetection, describeReport, runnableInstalls, softFailure } from './environment-summary.js';
import type { WorkspaceSetup } from './live-sandboxes.js';
import { runScript } from './run-script.js';
import type { StepResult } from './step-runner.js';
import type { WorkspaceContext } from './workspace-context.js';

/** Detects the checkout's needs, with the branch's own environment changes over them. */
export async function detectWithChanges(ctx: WorkspaceContext, row: WorkspaceRow, repoDir: string) {
  const value = await ctx.options.environments.detect(repoDir);
  const changes = row.environment_changes as EnvChanges | null;
  if (!hasEnvChanges(changes)) return { value, detail: describeDetection(value) };
  const changed = { ...value, spec: applyEnvChanges(value.spec, changes) };
  return {
    value: changed,
    detail: `${describeDetection(changed)}; branch changes: ${describeEnvChanges(changes)}`,
  };
}

export async function buildStep(
  ctx: WorkspaceContext,
  id: string,
  spec: EnvSpec,
  repoDir: string,
  diagnostics: WorkspaceEnvironmentRecord['diagnostics'],
  signal: AbortSignal,
  parentId: string | null = null,
): Promise<StepResult<BuiltEnvironment | undefined>> {
  try {
    const value = await ctx.options.environments.build(spec, repoDir, {
      signal,
      parentId,
      onLog: (line) => ctx.log(id, 'build', line),
    });
    return {
      value,
      detail: `${value.provider}${value.cached ? ', reused' : ''}${describeReport(value)}`,
      patch: {
        environmentId: value.row.id,
        environment: {
          hash: value.row.hash,
          provider: value.provider,
          reproducible: value.reproducible,
          reproducibility: value.reproducibility,
          fallback: value.fallback,
          cached: value.cached,
          report: value.activation.report,
          diagnostics,
          services: [],
          installs: [],
        },
      },
    };
  } catch (error) {
    if (signal.aborted) throw error;
    return { value: undefined, ...softFailure(error) };
  }
}

export async function installStep(
  ctx: WorkspaceContext,
  id: string,
  spec: EnvSpec,
  built: BuiltEnvironment | undefined,
  signal: AbortSignal,
): Promise<StepResult<undefined>> {
  const { plans, blocked } = runnableInstalls(installPlans(spec), built?.activation.report ?? []);
  if (plans.length === 0 && blocked.length === 0) {
    return { value: undefined, status: 'skipped', detail: 'nothing to install' };
  }
  for (const line of blocked) ctx.log(id, 'install', line);
  try {
    const outcomes = plans.length
      ? await installDependencies(ctx, id, plans, built?.row.hash ?? 'none', signal)
      : [];
    return {
      value: undefined,
      ...(blocked.length ? { status: 'failed' as const } : {}),
      detail: [...outcomes.map((o) => `${o.label} (${o.result}, ${o.durationMs} ms)`), ...blocked].join('; '),
      patch: built ? { environment: { ...(await environmentRecord(ctx, id)), installs: outcomes } } : {},
    };
  } catch (error) {
    if (signal.aborted) throw error;
    return { value: undefined, ...softFailure(error) };
  }
}

export async function servicesStep(
  ctx: WorkspaceContext,
  row: Pick<WorkspaceRow, 'id' | 'name'>,
  spec: EnvSpec,
  built: BuiltEnvironment | undefined,
  signal: AbortSignal,
): Promise<StepResult<undefined>> {
  if (spec.services.length === 0) return { value: undefined, status: 'skipped', detail: 'none needed' };
  try {
    const statuses = await ctx.sandboxes.startServices(row, spec, signal);
    const failed = statuses.filter((st) => st.status !== 'running');
    return {
      value: undefined,
      ...(failed.length ? { status: 'failed' as const } : {}),
      detail: statuses.map((st) => `${st.name} ${st.status}`).join(', '),
      patch: built
        ? { environment: { ...(await environmentRecord(ctx, row.id)), services: [...statuses] } }
        : {},
    };
  } catch (error) {
    if (signal.aborted) throw error;
    return { value: undefined, ...softFailure(error) };
  }
}

/** What the workspace last ran with, from the environment stored by its hash. */
export async function storedSetup(ctx: WorkspaceContext, row: WorkspaceRow): Promise<WorkspaceSetup> {
  const hash = row.environment?.hash;
  if (!hash) return { activation: undefined, spec: undefined };
  const stored = await ctx.options.environments.stored(hash);
  return { activation: stored?.activation, spec: stored?.spec };
}

async function environmentRecord(ctx: WorkspaceContext, id: string) {
  const row = await ctx.records.find(id);
  return row!.environment!;
}

/** Runs installs in a short-lived sandbox over the same files, with the install network policy. */
async function installDependencies(
  ctx: WorkspaceContext,
  id: string,
  plans: ReturnType<typeof installPlans>,
  environmentHash: string,
  signal: AbortSignal,
) {
  const { options } = ctx;
  const live = ctx.sandboxes.get(id);
  if (!live) throw new NixSpaceError('CONFLICT', 'The workspace sandbox is not running');
  const dir = ctx.workspaceDir(id);
  // No install is reused across owners: one owner's cached install never lands in another's workspace.
  const owner = (await ctx.records.find(id))?.owner_id;
  if (!owner) throw new NixSpaceError('NOT_FOUND', 'The workspace no longer exists');
  const network = ctx.networkFor(options.installNetwork, live.driver);
  // The install sandbox (its own network policy) starts only if something really installs:
  // restoring from the cache, or finding the install unchanged, needs none.
  let installSandbox: Promise<RuntimeSandbox> | undefined;
  const sandboxFor = (): Promise<RuntimeSandbox> => {
    if (network === ctx.networkFor(options.network, live.driver)) return Promise.resolve(live.sandbox);
    installSandbox ??= RuntimeSandbox.start(live.driver, {
      id: `${id}-install`,
      user: live.user,
      workspaceDir: dir,
      agentDir: ctx.agentDir(`${id}-install`),
      readOnlyPaths: [live.mirrorDir, ...live.cacheDirs, ...live.toolchainPaths],
      hiddenPaths: options.hiddenPaths ?? [],
      network,
      limits: options.limits,
      hostname: `ws-${id.slice(0, 8)}`,
      env: live.shell.env,
    });
    return installSandbox;
  };
  try {
    return await options.installer.install(plans, {
      workspaceDir: dir,
      environmentHash,
      // An install without a lockfile is reused by this workspace only: whoever can edit another
      // workspace (a share editor) can change what its installs leave.
      cacheScope: id,
      ownerScope: owner,
      signal,
      onLog: (line) => ctx.log(id, 'install', line),
      run: async (script, runOptions) =>
        runScript(await sandboxFor(), script, { ...runOptions, env: live.shell.env }),
    });
  } finally {
    await installSandbox?.then((sandbox) => sandbox.stop()).catch(() => {});
    if (installSandbox) await rm(ctx.agentDir(`${id}-install`), { recursive: true, force: true });
  }
}
