// Accounts and sign-in: the first start creates the owner; people sign in through one-time links
// and hold a session cookie. Tokens are random; only their sha256 reaches the database.

import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { NixSpaceError } from '../../errors.js';
import {
  consumeLoginLink,
  deleteExpiredAccessRows,
  deleteSession,
  findOwner,
  findSessionUser,
  findUserByEmail,
  insertLoginLink,
  insertSession,
  insertUser,
  sessionStands,
  touchSession,
} from '../../store/access-queries.js';
import type { Store } from '../../store/store.js';

export interface User {
  id: string;
  email: string;
  role: 'owner' | 'member';
}

export interface AccessOptions {
  loginLinkTtlMs: number;
  sessionTtlMs: number;
}

export const defaultAccessOptions: AccessOptions = {
  loginLinkTtlMs: 24 * 60 * 60 * 1000,
  sessionTtlMs: 30 * 24 * 60 * 60 * 1000,
};

// Refresh a session's expiry at most this often, so authentication is usually one read.
const TOUCH_INTERVAL_MS = 60 * 60 * 1000;
// How long a session's standing is trusted before the database is asked again (the IDE proxy asks
// for every asset; another server may have ended the session).
const SESSION_CACHE_MS = 2000;

/** A signed-in user and the session they are signed in with. */
export interface SignedIn {
  user: User;
  sessionId: string;
}

function newToken(): string {
  return randomBytes(32).toString('base64url');
}

export function hashToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

export class AccessService {
  readonly #sessions = new Map<string, { stands: boolean; readAt: number }>();

  constructor(
    private readonly store: Store,
    private readonly options: AccessOptions = defaultAccessOptions,
  ) {}

  /** Returns the owner, creating it on the first start. */
  async ensureOwner(email: string): Promise<{ user: User; created: boolean }> {
    const existing = await findOwner(this.store.db);
    if (existing) return { user: toUser(existing), created: false };
    const user = await insertUser(this.store.db, { id: randomUUID(), email, role: 'owner' });
    return { user: toUser(user), created: true };
  }

  async createUser(email: string): Promise<User> {
    if (await findUserByEmail(this.store.db, email)) {
      throw new NixSpaceError('CONFLICT', `A user with the email ${email} already exists`);
    }
    return toUser(await insertUser(this.store.db, { id: randomUUID(), email, role: 'member' }));
  }

  /** Mints a one-time sign-in token for a user. */
  async createLoginLink(userId: string): Promise<{ token: string; expiresAt: Date }> {
    const token = newToken();
    const expiresAt = new Date(Date.now() + this.options.loginLinkTtlMs);
    await insertLoginLink(this.store.db, { tokenHash: hashToken(token), userId, expiresAt });
    return { token, expiresAt };
  }

  /** Spends a sign-in token and opens a session; the token cannot be used twice. */
  async redeemLoginLink(token: string): Promise<{ sessionToken: string; expiresAt: Date }> {
    const now = new Date();
    const userId = await consumeLoginLink(this.store.db, hashToken(token), now);
    if (!userId) {
      throw new NixSpaceError('UNAUTHENTICATED', 'This sign-in link is invalid, expired or already used');
    }
    const sessionToken = newToken();
    const expiresAt = new Date(now.getTime() + this.options.sessionTtlMs);
    await insertSession(this.store.db, { tokenHash: hashToken(sessionToken), userId, expiresAt });
    return { sessionToken, expiresAt };
  }

  /** The user behind a session token, or undefined when it is unknown or expired. */
  async authenticate(sessionToken: string | undefined): Promise<User | undefined> {
    return (await this.authenticateSession(sessionToken))?.user;
  }

  /** The user behind a session token and the session's id, or undefined. */
  async authenticateSession(sessionToken: string | undefined): Promise<SignedIn | undefined> {
    if (!sessionToken) return undefined;
    const now = new Date();
    const tokenHash = hashToken(sessionToken);
    const row = await findSessionUser(this.store.db, tokenHash, now);
    if (!row) return undefined;
    if (now.getTime() - row.last_seen_at.getTime() > TOUCH_INTERVAL_MS) {
      await touchSession(this.store.db, tokenHash, now, new Date(now.getTime() + this.options.sessionTtlMs));
    }
    return { user: toUser(row), sessionId: row.session_id };
  }

  /**
   * Throws UNAUTHENTICATED unless the session a workspace token was issued to still stands. From
   * a short cache; signing out on this server takes effect at once.
   */
  async checkSession(sessionId: string): Promise<void> {
    const cached = this.#sessions.get(sessionId);
    let stands = cached?.stands;
    if (!cached || Date.now() - cached.readAt > SESSION_CACHE_MS) {
      stands = isUuid(sessionId) && (await sessionStands(this.store.db, sessionId, new Date()));
      this.#sessions.set(sessionId, { stands, readAt: Date.now() });
      this.#pruneCache();
    }
    if (!stands) {
      throw new NixSpaceError(
        'UNAUTHENTICATED',
        'The session this workspace token was issued to has ended; sign in again',
      );
    }
  }

  /** Ends a session; returns its id (the workspace tokens it asked for end with it). */
  async signOut(sessionToken: string): Promise<string | undefined> {
    const sessionId = await deleteSession(this.store.db, hashToken(sessionToken));
    if (sessionId) this.#sessions.set(sessionId, { stands: false, readAt: Date.now() });
    return sessionId;
  }

  #pruneCache(): void {
    if (this.#sessions.size < 10_000) return;
    const stale = Date.now() - SESSION_CACHE_MS;
    for (const [id, entry] of this.#sessions) if (entry.readAt < stale) this.#sessions.delete(id);
  }

  async pruneExpired(): Promise<void> {
    await deleteExpiredAccessRows(this.store.db, new Date());
  }
}

function isUuid(value: string): boolean {
  return /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(value);
}

function toUser(row: { id: string; email: string; role: 'owner' | 'member' }): User {
  return { id: row.id, email: row.email, role: row.role };
}
