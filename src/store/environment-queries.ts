// Queries for environments: one row per content hash, reused by every workspace that needs it.

import type { Kysely } from 'kysely';
import type { Database, EnvironmentRow, EnvironmentVersionRow } from './schema.js';

type Db = Kysely<Database>;

export async function findEnvironmentByHash(db: Db, hash: string): Promise<EnvironmentRow | undefined> {
  return db.selectFrom('environments').selectAll().where('hash', '=', hash).executeTakeFirst();
}

export async function findEnvironment(db: Db, id: string): Promise<EnvironmentRow | undefined> {
  return db.selectFrom('environments').selectAll().where('id', '=', id).executeTakeFirst();
}

/** Inserts an environment, or returns the one another build of the same hash stored first. */
export async function insertEnvironment(
  db: Db,
  env: {
    id: string;
    hash: string;
    parentId: string | null;
    provider: string;
    reproducible: boolean;
    flakeContent: string | null;
    spec: unknown;
    activation: { env: Record<string, string>; shellHook: string | null; report: unknown[] };
  },
): Promise<EnvironmentRow> {
  await db
    .insertInto('environments')
    .values({
      id: env.id,
      hash: env.hash,
      parent_id: env.parentId,
      provider: env.provider,
      reproducible: env.reproducible,
      flake_content: env.flakeContent,
      spec: JSON.stringify(env.spec),
      activation: JSON.stringify(env.activation),
    })
    // A reproducible build is the same every time; a host check is not (the host changes, a
    // release is fetched from the npm registry): the latest one is what a restart runs with.
    .onConflict((oc) =>
      env.reproducible
        ? oc.column('hash').doNothing()
        : oc.column('hash').doUpdateSet({
            provider: env.provider,
            activation: JSON.stringify(env.activation),
          }),
    )
    .execute();
  return (await findEnvironmentByHash(db, env.hash))!;
}

export async function touchEnvironment(db: Db, id: string): Promise<void> {
  await db.updateTable('environments').set({ last_used_at: new Date() }).where('id', '=', id).execute();
}

export async function insertEnvironmentVersion(
  db: Db,
  version: {
    id: string;
    workspaceId: string;
    environmentId: string;
    parentEnvironmentId: string | null;
    commitId: string;
    ref: string | null;
    message: string;
    changes: unknown;
  },
): Promise<EnvironmentVersionRow> {
  return db
    .insertInto('environment_versions')
    .values({
      id: version.id,
      workspace_id: version.workspaceId,
      environment_id: version.environmentId,
      parent_environment_id: version.parentEnvironmentId,
      commit_id: version.commitId,
      ref: version.ref,
      message: version.message,
      changes: JSON.stringify(version.changes),
    })
    .returningAll()
    .executeTakeFirstOrThrow();
}

/** A workspace's environment versions, newest first, with each one's environment hash. */
export async function listEnvironmentVersions(db: Db, workspaceId: string) {
  return db
    .selectFrom('environment_versions as v')
    .innerJoin('environments as e', 'e.id', 'v.environment_id')
    .select([
      'v.id',
      'v.environment_id',
      'v.parent_environment_id',
      'v.commit_id',
      'v.ref',
      'v.message',
      'v.changes',
      'v.created_at',
      'e.hash',
      'e.provider',
      'e.reproducible',
    ])
    .where('v.workspace_id', '=', workspaceId)
    .orderBy('v.created_at', 'desc')
    .orderBy('v.id')
    .execute();
}

/** Whether one of the owner's workspaces has run with the environment (so its spec is theirs to see). */
export async function ownerUsedEnvironment(db: Db, ownerId: string, environmentId: string): Promise<boolean> {
  const row = await db
    .selectFrom('environment_versions as v')
    .innerJoin('workspaces as w', 'w.id', 'v.workspace_id')
    .select('v.id')
    .where('w.owner_id', '=', ownerId)
    .where('v.environment_id', '=', environmentId)
    .executeTakeFirst();
  return row !== undefined;
}
