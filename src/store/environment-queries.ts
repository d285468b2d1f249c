// Queries for environments: one row per content hash, reused by every workspace that needs it.

import type { Kysely } from 'kysely';
import type { Database, EnvironmentRow } from './schema.js';

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
    .onConflict((oc) => oc.column('hash').doNothing())
    .execute();
  return (await findEnvironmentByHash(db, env.hash))!;
}

export async function touchEnvironment(db: Db, id: string): Promise<void> {
  await db.updateTable('environments').set({ last_used_at: new Date() }).where('id', '=', id).execute();
}
