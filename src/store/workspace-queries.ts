// Queries for workspaces and their persisted state machine.

import type { Kysely } from 'kysely';
import type {
  Database,
  SandboxRecord,
  StepRecord,
  WorkspaceEnvironmentRecord,
  WorkspaceErrorRecord,
  WorkspaceRow,
  WorkspaceStatus,
} from './schema.js';

type Db = Kysely<Database>;

export interface WorkspacePatch {
  status?: WorkspaceStatus;
  ref?: string | null;
  commitId?: string | null;
  branch?: string | null;
  error?: WorkspaceErrorRecord | null;
  steps?: StepRecord[];
  sandbox?: SandboxRecord | null;
  environmentId?: string | null;
  environment?: WorkspaceEnvironmentRecord | null;
  expiresAt?: Date | null;
  keptAt?: Date | null;
  hibernatedAt?: Date | null;
}

export async function insertWorkspace(
  db: Db,
  ws: {
    id: string;
    ownerId: string;
    name: string;
    repoUrl: string;
    ref: string | null;
    steps: StepRecord[];
    parentId?: string | null;
    environmentChanges?: unknown;
    /** When it is deleted; null or absent: never. */
    expiresAt?: Date | null;
    /** When it was made (the database's clock when absent). */
    createdAt?: Date;
    /** The sandbox driver it runs on; absent: the server's default. */
    sandboxDriver?: string;
  },
): Promise<WorkspaceRow> {
  return db
    .insertInto('workspaces')
    .values({
      id: ws.id,
      owner_id: ws.ownerId,
      name: ws.name,
      repo_url: ws.repoUrl,
      ref: ws.ref,
      commit_id: null,
      branch: null,
      status: 'pending',
      error: null,
      steps: JSON.stringify(ws.steps),
      sandbox: null,
      sandbox_driver: ws.sandboxDriver ?? null,
      parent_id: ws.parentId ?? null,
      environment_changes:
        ws.environmentChanges === undefined || ws.environmentChanges === null
          ? null
          : JSON.stringify(ws.environmentChanges),
      expires_at: ws.expiresAt ?? null,
      ...(ws.createdAt ? { created_at: ws.createdAt } : {}),
      updated_at: new Date(),
    })
    .returningAll()
    .executeTakeFirstOrThrow();
}

export async function updateWorkspace(db: Db, id: string, patch: WorkspacePatch): Promise<WorkspaceRow> {
  const set: Record<string, unknown> = { updated_at: new Date() };
  if (patch.status !== undefined) set.status = patch.status;
  if (patch.ref !== undefined) set.ref = patch.ref;
  if (patch.commitId !== undefined) set.commit_id = patch.commitId;
  if (patch.branch !== undefined) set.branch = patch.branch;
  if (patch.error !== undefined) set.error = patch.error === null ? null : JSON.stringify(patch.error);
  if (patch.steps !== undefined) set.steps = JSON.stringify(patch.steps);
  if (patch.sandbox !== undefined)
    set.sandbox = patch.sandbox === null ? null : JSON.stringify(patch.sandbox);
  if (patch.environmentId !== undefined) set.environment_id = patch.environmentId;
  if (patch.environment !== undefined) {
    set.environment = patch.environment === null ? null : JSON.stringify(patch.environment);
  }
  if (patch.expiresAt !== undefined) set.expires_at = patch.expiresAt;
  if (patch.keptAt !== undefined) set.kept_at = patch.keptAt;
  if (patch.hibernatedAt !== undefined) set.hibernated_at = patch.hibernatedAt;
  return db.updateTable('workspaces').set(set).where('id', '=', id).returningAll().executeTakeFirstOrThrow();
}

export async function findWorkspace(db: Db, id: string): Promise<WorkspaceRow | undefined> {
  return db.selectFrom('workspaces').selectAll().where('id', '=', id).executeTakeFirst();
}

export async function listWorkspaces(db: Db, ownerId: string): Promise<WorkspaceRow[]> {
  return db
    .selectFrom('workspaces')
    .selectAll()
    .where('owner_id', '=', ownerId)
    .where('status', '<>', 'deleted')
    .orderBy('created_at', 'desc')
    .execute();
}

export async function listWorkspacesByStatus(db: Db, statuses: WorkspaceStatus[]): Promise<WorkspaceRow[]> {
  return db.selectFrom('workspaces').selectAll().where('status', 'in', statuses).execute();
}

/** The workspaces branched from one workspace, oldest first (deleted ones left out). */
export async function listChildWorkspaces(db: Db, parentId: string): Promise<WorkspaceRow[]> {
  return db
    .selectFrom('workspaces')
    .selectAll()
    .where('parent_id', '=', parentId)
    .where('status', '!=', 'deleted')
    .orderBy('created_at')
    .execute();
}

/** The workspaces whose deadline has passed by `now` (deleted ones left out), soonest first. */
export async function listExpiredWorkspaces(db: Db, now: Date): Promise<WorkspaceRow[]> {
  return db
    .selectFrom('workspaces')
    .selectAll()
    .where('expires_at', 'is not', null)
    .where('expires_at', '<=', now)
    .where('status', '<>', 'deleted')
    .orderBy('expires_at')
    .execute();
}
