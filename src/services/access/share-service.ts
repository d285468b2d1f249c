// Share links: the owner mints a capability URL for one workspace in a role (viewer or editor),
// with an expiry and optionally open to holders without an account. Opening the link trades its
// token for a short-lived signed workspace token in that role; every use of such a token checks
// that its link still stands, and revoking a link closes what it opened within seconds.

import { randomBytes, randomUUID } from 'node:crypto';
import { NixSpaceError } from '../../errors.js';
import type { ShareLinkRow, ShareRole } from '../../store/schema.js';
import {
  findShareLink,
  findShareLinkByTokenHash,
  insertShareLink,
  listActiveShareLinks,
  revokeShareLink,
  touchShareLink,
} from '../../store/share-queries.js';
import type { Store } from '../../store/store.js';
import type { CreatedShare, ShareLink } from '../../wire/shares.js';
import type { WorkspaceService } from '../workspaces/workspace-service.js';
import type { WorkspaceView } from '../workspaces/workspace-view.js';
import { hashToken, type User } from './access-service.js';
import type { WorkspacePresence } from './workspace-presence.js';
import type { VerifiedWorkspaceToken, WorkspaceTokens } from './workspace-tokens.js';

/** What opening a link gives: a workspace token in the link's role, and the workspace. */
export interface ShareVisit {
  token: string;
  expiresAt: Date;
  holder: string;
  role: ShareRole;
  link: ShareLink;
  workspace: WorkspaceView;
}

export interface ShareOptions {
  store: Store;
  tokens: WorkspaceTokens;
  presence: WorkspacePresence;
  workspaces: WorkspaceService;
  /** The server's public origin, for absolute links. */
  origin: () => string;
}

/** How long a link's state is trusted before the database is asked again (other servers may revoke). */
const LINK_CACHE_MS = 2000;
const MAX_EXPIRY_HOURS = 24 * 365;

export class ShareService {
  readonly #options: ShareOptions;
  readonly #links = new Map<string, { row: ShareLinkRow | undefined; readAt: number }>();

  constructor(options: ShareOptions) {
    this.#options = options;
  }

  async create(
    user: User,
    workspaceId: string,
    input: { role?: ShareRole | undefined; expiresInHours?: number | null | undefined; anonymous?: boolean },
  ): Promise<CreatedShare> {
    const workspace = await this.#options.workspaces.get(user, workspaceId);
    if (workspace.status === 'deleted' || workspace.status === 'failed') {
      throw new NixSpaceError(
        'CONFLICT',
        `Workspace ${workspace.name} is ${workspace.status}; it cannot be shared`,
      );
    }
    const role = input.role ?? 'viewer';
    if (role !== 'viewer' && role !== 'editor') {
      throw new NixSpaceError('BAD_REQUEST', 'role must be "viewer" or "editor"');
    }
    const hours = input.expiresInHours;
    if (hours !== undefined && hours !== null && !(hours > 0 && hours <= MAX_EXPIRY_HOURS)) {
      throw new NixSpaceError(
        'BAD_REQUEST',
        `expiresInHours must be more than 0 and at most ${MAX_EXPIRY_HOURS} (a year), or null for no expiry`,
      );
    }
    const token = randomBytes(32).toString('base64url');
    const row = await insertShareLink(this.#options.store.db, {
      id: randomUUID(),
      workspaceId: workspace.id,
      createdBy: user.id,
      tokenHash: hashToken(token),
      role,
      anonymous: input.anonymous ?? true,
      expiresAt: hours ? new Date(Date.now() + hours * 3600_000) : null,
    });
    const path = `/s/${token}`;
    return { ...this.#view(row), token, path, url: `${this.#options.origin()}${path}` };
  }

  /** The links of a workspace that still open it, newest first. */
  async list(user: User, workspaceId: string): Promise<ShareLink[]> {
    const workspace = await this.#options.workspaces.get(user, workspaceId);
    const rows = await listActiveShareLinks(this.#options.store.db, workspace.id, new Date());
    return rows.map((row) => this.#view(row));
  }

  /** Revokes a link and closes every connection it opened. */
  async revoke(user: User, linkId: string): Promise<ShareLink> {
    const db = this.#options.store.db;
    const existing = isUuid(linkId) ? await findShareLink(db, linkId) : undefined;
    const owns = existing && (await this.#options.workspaces.owns(user, existing.workspace_id));
    if (!existing || !owns) throw new NixSpaceError('NOT_FOUND', `Share link ${linkId} does not exist`);
    const revoked = (await revokeShareLink(db, linkId, new Date())) ?? existing;
    this.#links.set(linkId, { row: revoked, readAt: Date.now() });
    this.#options.presence.evictLink(linkId, {
      code: 'SHARE_LINK_REVOKED',
      message: 'The owner revoked this share link',
    });
    return this.#view(revoked);
  }

  /**
   * Opens a link: checks it stands, that a sign-in is there when the link needs one, and that the
   * workspace has room; then issues a workspace token in the link's role. `previous` (a token an
   * earlier visit got) keeps the holder the same person across reloads.
   */
  async visit(token: string, context: { user?: User | undefined; previous?: string | undefined }) {
    const row = await findShareLinkByTokenHash(this.#options.store.db, hashToken(token));
    if (!row) {
      throw new NixSpaceError(
        'SHARE_LINK_INVALID',
        'This share link is not valid; check that it was copied whole',
      );
    }
    this.#links.set(row.id, { row, readAt: Date.now() });
    assertStands(row);
    if (!row.anonymous && !context.user) {
      throw new NixSpaceError(
        'UNAUTHENTICATED',
        'This share link needs an account: sign in, then open it again',
      );
    }
    const workspace = await this.#options.workspaces.viewShared(row.workspace_id);
    let holder = context.user ? context.user.id : undefined;
    if (!holder && context.previous) {
      const earlier = await this.#options.tokens
        .verify(context.previous, row.workspace_id, { ignoreExpiry: true })
        .catch(() => undefined);
      if (earlier?.linkId === row.id && earlier.holder.startsWith('guest:')) holder = earlier.holder;
    }
    holder ??= `guest:${randomUUID()}`;
    this.#options.presence.assertRoom(row.workspace_id, holder, row.role);
    const issued = await this.#options.tokens.issue({
      holder,
      workspaceId: row.workspace_id,
      role: row.role,
      linkId: row.id,
    });
    await touchShareLink(this.#options.store.db, row.id, new Date());
    const visit: ShareVisit = {
      token: issued.token,
      expiresAt: issued.expiresAt,
      holder,
      role: row.role,
      link: this.#view(row),
      workspace,
    };
    return visit;
  }

  /**
   * Throws unless the link behind a verified workspace token still stands (owner tokens have
   * none). Answers from a short cache, so the proxy's requests rarely reach the database.
   */
  async check(token: VerifiedWorkspaceToken): Promise<{ linkExpiresAt: Date | null }> {
    if (!token.linkId) return { linkExpiresAt: null };
    const cached = this.#links.get(token.linkId);
    let row = cached?.row;
    if (!cached || Date.now() - cached.readAt > LINK_CACHE_MS) {
      row = await findShareLink(this.#options.store.db, token.linkId);
      this.#links.set(token.linkId, { row, readAt: Date.now() });
    }
    if (!row || row.workspace_id !== token.workspaceId) {
      throw new NixSpaceError('SHARE_LINK_INVALID', 'The share link behind this token no longer exists');
    }
    assertStands(row);
    return { linkExpiresAt: row.expires_at };
  }

  #view(row: ShareLinkRow): ShareLink {
    return {
      id: row.id,
      workspaceId: row.workspace_id,
      role: row.role,
      anonymous: row.anonymous,
      expiresAt: row.expires_at ? new Date(row.expires_at).toISOString() : null,
      createdAt: new Date(row.created_at).toISOString(),
      lastUsedAt: row.last_used_at ? new Date(row.last_used_at).toISOString() : null,
      activeUsers: this.#options.presence.holdersOfLink(row.id),
    };
  }
}

function assertStands(row: ShareLinkRow): void {
  if (row.revoked_at) throw new NixSpaceError('SHARE_LINK_REVOKED', 'The owner revoked this share link');
  if (row.expires_at && new Date(row.expires_at).getTime() <= Date.now()) {
    throw new NixSpaceError('SHARE_LINK_EXPIRED', 'This share link has expired; ask the owner for a new one');
  }
}

function isUuid(value: string): boolean {
  return /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(value);
}
