// The environments a workspace has run with: a version recorded at each creation, branch and
// switch that changed it, with what changed against the one before.

import type { EnvSpec } from '../../detect/env-spec.js';
import { NixSpaceError } from '../../errors.js';
import {
  findEnvironment,
  insertEnvironmentVersion,
  listEnvironmentVersions,
  ownerUsedEnvironment,
} from '../../store/environment-queries.js';
import type { WorkspaceRow } from '../../store/schema.js';
import type { EnvironmentDiff, EnvironmentVersion } from '../../wire/environments.js';
import type { User } from '../access/access-service.js';
import type { BuiltEnvironment } from '../environments/environment-service.js';
import { diffSpecs, type SpecDiff } from '../environments/spec-diff.js';
import type { WorkspaceContext } from './workspace-context.js';
import { isUuid } from './workspace-input.js';

/** Records a new environment version of the workspace, with its diff against the previous one. */
export async function recordVersion(
  ctx: WorkspaceContext,
  row: Pick<WorkspaceRow, 'id' | 'ref'>,
  built: BuiltEnvironment,
  spec: EnvSpec,
  at: { commit: string; previousEnvironmentId: string | null; message: string },
): Promise<void> {
  const db = ctx.options.store.db;
  const previous = at.previousEnvironmentId ? await findEnvironment(db, at.previousEnvironmentId) : undefined;
  await insertEnvironmentVersion(db, {
    id: crypto.randomUUID(),
    workspaceId: row.id,
    environmentId: built.row.id,
    parentEnvironmentId: previous?.id ?? null,
    commitId: at.commit,
    ref: row.ref,
    message: at.message,
    changes: diffSpecs(previous?.spec as EnvSpec | undefined, spec),
  }).catch((error: unknown) =>
    ctx.logger.warn({ err: error, workspace: row.id }, 'could not record the environment version'),
  );
}

/** The environments a workspace has run with, newest first, each with what it changed. */
export async function listVersions(ctx: WorkspaceContext, id: string): Promise<EnvironmentVersion[]> {
  const rows = await listEnvironmentVersions(ctx.options.store.db, id);
  return rows.map((v) => ({
    id: v.id,
    environmentId: v.environment_id,
    parentEnvironmentId: v.parent_environment_id,
    hash: v.hash,
    provider: v.provider,
    reproducible: v.reproducible,
    commit: v.commit_id,
    ref: v.ref,
    message: v.message,
    changes: v.changes as SpecDiff,
    createdAt: new Date(v.created_at).toISOString(),
  }));
}

/**
 * What changed from one environment to another, for any two that the user's workspaces have run
 * with (versions of one workspace, or of a workspace and its branch).
 */
export async function diffEnvironments(
  ctx: WorkspaceContext,
  user: User,
  fromId: string,
  toId: string,
): Promise<EnvironmentDiff> {
  const db = ctx.options.store.db;
  const load = async (environmentId: string) => {
    const row = isUuid(environmentId) ? await findEnvironment(db, environmentId) : undefined;
    if (!row || !(await ownerUsedEnvironment(db, user.id, row.id))) {
      throw new NixSpaceError('NOT_FOUND', `Environment ${environmentId} does not exist`);
    }
    return row;
  };
  const [from, to] = [await load(fromId), await load(toId)];
  return {
    ...diffSpecs(from.spec as EnvSpec, to.spec as EnvSpec),
    from: { id: from.id, hash: from.hash },
    to: { id: to.id, hash: to.hash },
  };
}
