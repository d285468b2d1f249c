// Short-lived signed workspace tokens: proof, checked without a database round trip on every
// proxied request, that someone may reach one workspace (its IDE, terminals and progress) in a
// role. The owner gets them for the IDE; a share link's holder gets one for each visit. The key is
// kept in the data directory so tokens outlive a server restart.

import { randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { errors, jwtVerify, SignJWT } from 'jose';
import { NixSpaceError } from '../../errors.js';

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
}

export interface VerifiedWorkspaceToken {
  holder: string;
  workspaceId: string;
  role: WorkspaceRole;
  linkId: string | undefined;
}

const issuer = 'nixspace';
const scope = 'ide';
const roles: readonly WorkspaceRole[] = ['owner', 'editor', 'viewer'];

export class WorkspaceTokens {
  readonly ttlSeconds: number;
  readonly #key: Uint8Array;

  private constructor(key: Uint8Array, ttlSeconds: number) {
    this.#key = key;
    this.ttlSeconds = ttlSeconds;
  }

  /** Loads the signing key from `keyFile`, creating it on first use. */
  static async open(keyFile: string, options: { ttlSeconds?: number } = {}): Promise<WorkspaceTokens> {
    let key: Buffer;
    try {
      key = Buffer.from((await readFile(keyFile, 'utf8')).trim(), 'base64url');
    } catch {
      key = randomBytes(32);
      await mkdir(dirname(keyFile), { recursive: true, mode: 0o700 });
      await writeFile(keyFile, `${key.toString('base64url')}\n`, { mode: 0o600, flag: 'wx' }).catch(
        async () => {
          // Another process wrote it first: use that one.
          key = Buffer.from((await readFile(keyFile, 'utf8')).trim(), 'base64url');
        },
      );
    }
    if (key.length < 32) throw new NixSpaceError('INTERNAL', `the token key in ${keyFile} is too short`);
    return new WorkspaceTokens(new Uint8Array(key), options.ttlSeconds ?? 15 * 60);
  }

  async issue(claims: WorkspaceTokenClaims): Promise<{ token: string; expiresAt: Date }> {
    const now = Math.floor(Date.now() / 1000);
    const exp = now + this.ttlSeconds;
    const token = await new SignJWT({
      scope,
      role: claims.role ?? 'owner',
      ...(claims.linkId ? { lnk: claims.linkId } : {}),
    })
      .setProtectedHeader({ alg: 'HS256' })
      .setIssuer(issuer)
      .setSubject(claims.holder)
      .setAudience(audience(claims.workspaceId))
      .setIssuedAt(now)
      .setExpirationTime(exp)
      .sign(this.#key);
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
      ({ payload } = await jwtVerify(token, this.#key, {
        issuer,
        algorithms: ['HS256'],
        // Only to recognise who held an expired token (a share visit keeps its guest id), never to grant.
        ...(options.ignoreExpiry ? { clockTolerance: '30 days' } : {}),
      }));
    } catch (error) {
      if (error instanceof errors.JWTExpired) {
        throw new NixSpaceError('TOKEN_EXPIRED', 'The workspace token has expired; request a new one');
      }
      throw new NixSpaceError('UNAUTHENTICATED', 'The workspace token is not valid');
    }
    const role = payload.role ?? 'owner';
    const linkId = payload.lnk;
    if (
      payload.scope !== scope ||
      typeof payload.sub !== 'string' ||
      !roles.includes(role as WorkspaceRole) ||
      (linkId !== undefined && typeof linkId !== 'string')
    ) {
      throw new NixSpaceError('UNAUTHENTICATED', 'The workspace token is not valid');
    }
    const audiences = typeof payload.aud === 'string' ? [payload.aud] : (payload.aud ?? []);
    if (!audiences.includes(audience(workspaceId))) {
      throw new NixSpaceError('FORBIDDEN', 'This workspace token is for another workspace');
    }
    return { holder: payload.sub, workspaceId, role: role as WorkspaceRole, linkId };
  }
}

function audience(workspaceId: string): string {
  return `workspace:${workspaceId}`;
}
