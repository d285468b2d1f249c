// Queries for share links. A link is found by the sha256 of its token, never by the token.

import type { Kysely } from 'kysely';
import type { Database, ShareLinkRow, ShareRole } from './schema.js';

type Db = Kysely<Database>;

export async function insertShareLink(
  db: Db,
  link: {
    id: string;
    workspaceId: string;
    createdBy: string;
    tokenHash: string;
    role: ShareRole;
    anonymous: boolean;
    expiresAt: Date | null;
  },
): Promise<ShareLinkRow> {
  return db
    .insertInto('share_links')
    .values({
      id: link.id,
      workspace_id: link.workspaceId,
      created_by: link.createdBy,
      token_hash: link.tokenHash,
      role: link.role,
      anonymous: link.anonymous,
      expires_at: link.expiresAt,
    })
    .returningAll()
    .executeTakeFirstOrThrow();
}

export async function findShareLinkByTokenHash(db: Db, tokenHash: string): Promise<ShareLinkRow | undefined> {
  return db.selectFrom('share_links').selectAll().where('token_hash', '=', tokenHash).executeTakeFirst();
}

export async function findShareLink(db: Db, id: string): Promise<ShareLinkRow | undefined> {
  return db.selectFrom('share_links').selectAll().where('id', '=', id).executeTakeFirst();
}

/** Links of a workspace that still open it: not revoked and not expired, newest first. */
export async function listActiveShareLinks(db: Db, workspaceId: string, now: Date): Promise<ShareLinkRow[]> {
  return db
    .selectFrom('share_links')
    .selectAll()
    .where('workspace_id', '=', workspaceId)
    .where('revoked_at', 'is', null)
    .where((eb) => eb.or([eb('expires_at', 'is', null), eb('expires_at', '>', now)]))
    .orderBy('created_at', 'desc')
    .execute();
}

/** Revokes a link that is not revoked yet; returns the row when this call revoked it. */
export async function revokeShareLink(db: Db, id: string, now: Date): Promise<ShareLinkRow | undefined> {
  return db
    .updateTable('share_links')
    .set({ revoked_at: now })
    .where('id', '=', id)
    .where('revoked_at', 'is', null)
    .returningAll()
    .executeTakeFirst();
}

export async function touchShareLink(db: Db, id: string, now: Date): Promise<void> {
  await db.updateTable('share_links').set({ last_used_at: now }).where('id', '=', id).execute();
}
