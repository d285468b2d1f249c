// Short-lived signed workspace tokens: proof that someone may reach one workspace (its IDE,
// terminals and progress) in a role. The owner gets them for the IDE, tied to the session that
// asked; a share link's holder gets one for each visit, tied to the link. Each use checks that the
// session or link still stands (the caller does, from a short cache), so signing out or revoking
// ends the token. The signing key rotates (token-keys.ts): on a schedule, and by command.

import { errors, jwtVerify, SignJWT } from 'jose';
import { NixSpaceError } from '../../errors.js';
import { TokenKeys } from './token-keys.js';

/** What a holder may do in a workspace: owners and editors change it, viewers watch. */
export type WorkspaceRole = 'owner' | 'editor' | 'viewer';

export interface WorkspaceTokenClaims {
  /** Who holds it: a user id, or `guest:<uuid>` for someone who opened a share link without an account. */
  holder: string;
  workspaceId: string;
  /** Owner when absent. */
  role?: WorkspaceRole;
  /** The share link the access comes from: revoking the link ends the token's use. */
  linkId?: string;
  /** The sign-in session that asked for it: signing out ends the token's use. */
  sessionId?: string;
}

/** A verified token names exactly one of its link and its session. */
export interface VerifiedWorkspaceToken {
  holder: string;
  workspaceId: string;
  role: WorkspaceRole;
  linkId: string | undefined;
  sessionId: string | undefined;
}

export interface WorkspaceTokenOptions {
  ttlSeconds?: number;
  /** How often the signing key rotates on its own (0: never). */
  rotateEveryMs?: number;
}

const issuer = 'nixspace';
const scope = 'ide';
const roles: readonly WorkspaceRole[] = ['owner', 'editor', 'viewer'];

export class WorkspaceTokens {
  readonly ttlSeconds: number;
  readonly #keys: TokenKeys;
  readonly #rotateEveryMs: number;
  #timer: NodeJS.Timeout | undefined;
  #rotating: Promise<void> = Promise.resolve();
  #closed = false;

  private constructor(keys: TokenKeys, ttlSeconds: number, rotateEveryMs: number) {
    this.#keys = keys;
    this.ttlSeconds = ttlSeconds;
    this.#rotateEveryMs = rotateEveryMs;
  }

  /** Loads the signing keys from `keyFile` (creating it on first use) and keeps them rotating. */
  static async open(keyFile: string, options: WorkspaceTokenOptions = {}): Promise<WorkspaceTokens> {
    const tokens = new WorkspaceTokens(
      await TokenKeys.open(keyFile),
      options.ttlSeconds ?? 15 * 60,
      options.rotateEveryMs ?? 0,
    );
    tokens.#schedule();
    return tokens;
  }

  /**
   * Rotates the signing key. By command (`immediately`) every token signed before is refused from
   * now on; on the schedule, tokens signed before keep working until they expire.
   */
  rotate(options: { immediately: boolean }): Promise<void> {
    const overlapMs = options.immediately ? 0 : this.ttlSeconds * 1000;
    this.#rotating = this.#rotating.catch(() => undefined).then(() => this.#keys.rotate({ overlapMs }));
    return this.#rotating;
  }

  /** Stops the scheduled rotation. */
  close(): void {
    this.#closed = true;
    clearTimeout(this.#timer);
  }

  /** The next scheduled rotation: when the signing key is `rotateEveryMs` old (a restart keeps the time). */
  #schedule(): void {
    if (this.#rotateEveryMs <= 0 || this.#closed) return;
    const due = this.#keys.current.createdAt.getTime() + this.#rotateEveryMs - Date.now();
    // setTimeout holds at most about 24.8 days; a longer wait is taken in steps.
    this.#timer = setTimeout(
      () => {
        const step =
          this.#keys.current.createdAt.getTime() + this.#rotateEveryMs <= Date.now()
            ? this.rotate({ immediately: false })
            : Promise.resolve();
        // A failed write keeps the old key signing; the next step tries again.
        void step.catch(() => undefined).then(() => this.#schedule());
      },
      Math.min(Math.max(due, 0), 2 ** 31 - 1),
    );
    this.#timer.unref();
  }

  async issue(claims: WorkspaceTokenClaims): Promise<{ token: string; expiresAt: Date }> {
    if (!claims.linkId === !claims.sessionId) {
      throw new NixSpaceError('INTERNAL', 'a workspace token is tied to exactly one session or share link');
    }
    await this.#rotating.catch(() => undefined);
    const key = this.#keys.current;
    const now = Math.floor(Date.now() / 1000);
    const exp = now + this.ttlSeconds;
    const token = await new SignJWT({
      scope,
      role: claims.role ?? 'owner',
      ...(claims.linkId ? { lnk: claims.linkId } : {}),
      ...(claims.sessionId ? { sid: claims.sessionId } : {}),
    })
      .setProtectedHeader({ alg: 'HS256', kid: key.kid })
      .setIssuer(issuer)
      .setSubject(claims.holder)
      .setAudience(audience(claims.workspaceId))
      .setIssuedAt(now)
      .setExpirationTime(exp)
      .sign(key.key);
    return { token, expiresAt: new Date(exp * 1000) };
  }

  /**
   * The claims of a token for this workspace. Expired or malformed: UNAUTHENTICATED (ask for a
   * new one); valid but for another workspace: FORBIDDEN.
   */
  async verify(
    token: string,
    workspaceId: string,
    options: { ignoreExpiry?: boolean } = {},
  ): Promise<VerifiedWorkspaceToken> {
    let payload: Awaited<ReturnType<typeof jwtVerify>>['payload'];
    try {
      ({ payload } = await jwtVerify(token, (header) => this.#keyFor(header.kid), {
        issuer,
        algorithms: ['HS256'],
        // Only to recognise who held an expired token (a share visit keeps its guest id), never to grant.
        ...(options.ignoreExpiry ? { clockTolerance: '30 days' } : {}),
      }));
    } catch (error) {
      if (error instanceof NixSpaceError) throw error;
      if (error instanceof errors.JWTExpired) {
        throw new NixSpaceError('TOKEN_EXPIRED', 'The workspace token has expired; request a new one');
      }
      throw new NixSpaceError('UNAUTHENTICATED', 'The workspace token is not valid');
    }
    const role = payload.role ?? 'owner';
    const linkId = payload.lnk;
    const sessionId = payload.sid;
    if (
      payload.scope !== scope ||
      typeof payload.sub !== 'string' ||
      !roles.includes(role as WorkspaceRole) ||
      (linkId !== undefined && typeof linkId !== 'string') ||
      (sessionId !== undefined && typeof sessionId !== 'string') ||
      // Tied to exactly one thing that can end it.
      (linkId === undefined) === (sessionId === undefined)
    ) {
      throw new NixSpaceError('UNAUTHENTICATED', 'The workspace token is not valid');
    }
    const audiences = typeof payload.aud === 'string' ? [payload.aud] : (payload.aud ?? []);
    if (!audiences.includes(audience(workspaceId))) {
      throw new NixSpaceError('FORBIDDEN', 'This workspace token is for another workspace');
    }
    return {
      holder: payload.sub,
      workspaceId,
      role: role as WorkspaceRole,
      linkId: linkId as string | undefined,
      sessionId: sessionId as string | undefined,
    };
  }

  #keyFor(kid: string | undefined): Uint8Array {
    const key = kid === undefined ? undefined : this.#keys.find(kid);
    if (!key) {
      throw new NixSpaceError(
        'UNAUTHENTICATED',
        'The workspace token was signed with a key that has been rotated; request a new one',
      );
    }
    return key.key;
  }
}

function audience(workspaceId: string): string {
  return `workspace:${workspaceId}`;
}
