// Who may reach one workspace, and in which role: its owner by session, or the holder of a signed
// workspace token carried in a cookie scoped to the workspace's paths, while what the token was
// issued for stands: its share link (a visit), or its owner's session (the IDE's token).

import type { FastifyReply, FastifyRequest } from 'fastify';
import { type ErrorBody, NixSpaceError } from '../errors.js';
import type { AccessService, User } from '../services/access/access-service.js';
import type { ShareService } from '../services/access/share-service.js';
import type { PresenceKind, WorkspacePresence } from '../services/access/workspace-presence.js';
import type {
  VerifiedWorkspaceToken,
  WorkspaceRole,
  WorkspaceTokens,
} from '../services/access/workspace-tokens.js';
import type { WorkspaceService } from '../services/workspaces/workspace-service.js';

/** Carries a workspace token to `/api/workspaces/<id>…` (the IDE has its own, on its path). */
export const WORKSPACE_COOKIE = 'nixspace_ws';

export interface WorkspaceAccess {
  workspaceId: string;
  role: WorkspaceRole;
  /** A user id, or `guest:<uuid>`. */
  holder: string;
  /** What the workspace service is asked as: the owner, or the token. */
  actor: User | VerifiedWorkspaceToken;
  linkId: string | undefined;
  linkExpiresAt: Date | null;
  /** The sign-in session the access comes from, when not a share link. */
  sessionId: string | undefined;
  /** Whether a workspace token carried it (a rotation of the keys ends what it opened). */
  viaToken: boolean;
}

export interface AccessDeps {
  workspaces: WorkspaceService;
  tokens: WorkspaceTokens;
  shares: ShareService;
  access: AccessService;
}

/** What a token's standing is checked against. */
export type GrantChecks = Pick<AccessDeps, 'shares' | 'access'>;

export function workspaceCookiePath(id: string): string {
  return `/api/workspaces/${id}`;
}

/**
 * The access a request has to workspace `id`. The owner's session wins; then a workspace token
 * (cookie, or `token` given explicitly), whose share link must still stand. A session without
 * either answers NOT_FOUND, as for any workspace that is not yours.
 */
export async function resolveWorkspaceAccess(
  request: FastifyRequest,
  id: string,
  deps: AccessDeps,
  token: string | undefined = request.cookies[WORKSPACE_COOKIE],
): Promise<WorkspaceAccess> {
  const user = request.user;
  if (user && request.sessionId && (await deps.workspaces.ownerOf(id)) === user.id) {
    return ownerAccess(user, id, request.sessionId);
  }
  if (token) return tokenAccess(await deps.tokens.verify(token, id), deps);
  if (user) throw new NixSpaceError('NOT_FOUND', `Workspace ${id} does not exist`);
  throw new NixSpaceError('UNAUTHENTICATED', 'Sign in first, or open the workspace through its share link');
}

/** The owner's access to their workspace, through the session they are signed in with. */
export function ownerAccess(user: User, workspaceId: string, sessionId: string): WorkspaceAccess {
  return {
    workspaceId,
    role: 'owner',
    holder: user.id,
    actor: user,
    linkId: undefined,
    linkExpiresAt: null,
    sessionId,
    viaToken: false,
  };
}

/** The access a verified workspace token gives, while its share link or session stands. */
export async function tokenAccess(
  verified: VerifiedWorkspaceToken,
  checks: GrantChecks,
): Promise<WorkspaceAccess> {
  if (verified.sessionId !== undefined) await checks.access.checkSession(verified.sessionId);
  const { linkExpiresAt } = await checks.shares.check(verified);
  return {
    workspaceId: verified.workspaceId,
    role: verified.role,
    holder: verified.holder,
    actor: verified,
    linkId: verified.linkId,
    linkExpiresAt,
    sessionId: verified.sessionId,
    viaToken: true,
  };
}

/**
 * Counts an open socket as its holder being in the workspace (refusing one person too many) and
 * lets a revoked or expired link, or the end of its session, close it; returns what to call when the socket closes.
 */
export function joinWorkspace(
  presence: WorkspacePresence,
  access: WorkspaceAccess,
  kind: PresenceKind,
  close: (reason: ErrorBody) => void,
): () => void {
  return presence.join(access.workspaceId, {
    holder: access.holder,
    role: access.role,
    kind,
    linkId: access.linkId,
    linkExpiresAt: access.linkExpiresAt,
    sessionId: access.sessionId,
    viaToken: access.viaToken,
    close,
  });
}

/** Refuses a viewer: the message says what they tried. */
export function requireWriter(access: WorkspaceAccess, what: string): void {
  if (access.role === 'viewer') {
    throw new NixSpaceError('READ_ONLY', `You are viewing this workspace read-only; you cannot ${what}`);
  }
}

/** Sets the cookie that carries a workspace token on the workspace's API paths. */
export function setWorkspaceCookie(
  reply: FastifyReply,
  id: string,
  token: string,
  expiresAt: Date,
  secure: boolean,
): void {
  reply.setCookie(WORKSPACE_COOKIE, token, {
    path: workspaceCookiePath(id),
    httpOnly: true,
    sameSite: 'lax',
    secure,
    expires: expiresAt,
  });
}
