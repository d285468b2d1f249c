// Who is in a workspace right now: every open connection (progress stream, terminal, IDE socket)
// registers with its holder. It enforces the brief's limit of concurrent people per workspace
// (share-link holders beyond it are refused; the owner always gets in) and cuts a share link's
// connections the moment it is revoked or runs out, and a session's when it signs out.

import { type ErrorBody, NixSpaceError } from '../../errors.js';
import type { WorkspaceRole } from './workspace-tokens.js';

/** What the connection is: the progress stream, a terminal, or an IDE socket. */
export type PresenceKind = 'events' | 'terminal' | 'ide';

export interface PresenceConnection {
  /** `user id` or `guest:<uuid>`: one person, however many tabs and sockets they have. */
  holder: string;
  role: WorkspaceRole;
  kind: PresenceKind;
  linkId?: string | undefined;
  /** When the share link runs out: the connection is closed then. */
  linkExpiresAt?: Date | null | undefined;
  /** The sign-in session the connection was opened through (its cookie or a token it got). */
  sessionId?: string | undefined;
  /** Opened with a workspace token. */
  viaToken?: boolean;
  /** Closes the connection with this reason (the socket says it in the one error body). */
  close(reason: ErrorBody): void;
}

interface Entry extends PresenceConnection {
  timer: ReturnType<typeof setTimeout> | undefined;
  /** What the join listeners asked to be called when this connection goes. */
  leaves: (() => void)[];
}

/** Hears of each connection that opens; what it returns is called when that connection goes. */
export type JoinListener = (workspaceId: string, kind: PresenceKind) => (() => void) | undefined;

export class WorkspacePresence {
  readonly #byWorkspace = new Map<string, Set<Entry>>();
  readonly #viewerIdeGone = new Set<(workspaceId: string) => void>();
  readonly #joined = new Set<JoinListener>();

  constructor(readonly maxUsers: number) {}

  /** Calls `listener` when the last viewer's IDE socket of a workspace closes. */
  onViewerIdeGone(listener: (workspaceId: string) => void): void {
    this.#viewerIdeGone.add(listener);
  }

  /** Calls `listener` on each connection that opens (and what it returns when that one closes). */
  onJoin(listener: JoinListener): void {
    this.#joined.add(listener);
  }

  /** Whether a viewer has the workspace's (read-only) IDE open. */
  viewerIdeOpen(workspaceId: string): boolean {
    return [...(this.#byWorkspace.get(workspaceId) ?? [])].some(
      (e) => e.role === 'viewer' && e.kind === 'ide',
    );
  }

  /** Distinct people with a connection to the workspace. */
  holders(workspaceId: string): string[] {
    return [...new Set([...(this.#byWorkspace.get(workspaceId) ?? [])].map((e) => e.holder))];
  }

  /** How many distinct people are in through one share link. */
  holdersOfLink(linkId: string): number {
    const holders = new Set<string>();
    for (const entries of this.#byWorkspace.values()) {
      for (const entry of entries) if (entry.linkId === linkId) holders.add(entry.holder);
    }
    return holders.size;
  }

  /** Throws WORKSPACE_FULL when a share holder not yet in would be one person too many. */
  assertRoom(workspaceId: string, holder: string, role: WorkspaceRole): void {
    if (role === 'owner') return;
    const present = this.holders(workspaceId);
    if (present.includes(holder) || present.length < this.maxUsers) return;
    throw new NixSpaceError(
      'WORKSPACE_FULL',
      `This workspace already has ${present.length} people in it, the most it allows (${this.maxUsers}); try again when someone leaves`,
    );
  }

  /** Registers an open connection; returns what unregisters it (call it when the socket closes). */
  join(workspaceId: string, connection: PresenceConnection): () => void {
    this.assertRoom(workspaceId, connection.holder, connection.role);
    let entries = this.#byWorkspace.get(workspaceId);
    if (!entries) {
      entries = new Set();
      this.#byWorkspace.set(workspaceId, entries);
    }
    const entry: Entry = { ...connection, timer: undefined, leaves: [] };
    const expiresAt = connection.linkExpiresAt?.getTime();
    if (expiresAt !== undefined) {
      // setTimeout cannot wait longer than ~24.8 days; links that far out are checked on reconnect.
      const delay = Math.max(0, expiresAt - Date.now());
      if (delay < 2 ** 31 - 1) {
        entry.timer = setTimeout(
          () => this.#cut(entry, { code: 'SHARE_LINK_EXPIRED', message: 'This share link has expired' }),
          delay,
        );
        entry.timer.unref();
      }
    }
    entries.add(entry);
    for (const listener of this.#joined) {
      const leave = listener(workspaceId, connection.kind);
      if (leave) entry.leaves.push(leave);
    }
    return () => this.#remove(workspaceId, entry);
  }

  /** Closes every connection opened through a share link (it was revoked). */
  evictLink(linkId: string, reason: ErrorBody): number {
    return this.#evict((entry) => entry.linkId === linkId, reason);
  }

  /** Closes every connection opened through a sign-in session (it signed out). */
  evictSession(sessionId: string, reason: ErrorBody): number {
    return this.#evict((entry) => entry.sessionId === sessionId, reason);
  }

  /** Closes every connection opened with a workspace token (the keys rotated by command). */
  evictTokens(reason: ErrorBody): number {
    return this.#evict((entry) => entry.viaToken === true, reason);
  }

  #evict(matches: (entry: Entry) => boolean, reason: ErrorBody): number {
    let closed = 0;
    for (const entries of this.#byWorkspace.values()) {
      for (const entry of [...entries]) {
        if (!matches(entry)) continue;
        this.#cut(entry, reason);
        closed++;
      }
    }
    return closed;
  }

  #cut(entry: Entry, reason: ErrorBody): void {
    clearTimeout(entry.timer);
    for (const [workspaceId, entries] of this.#byWorkspace) {
      if (entries.has(entry)) this.#remove(workspaceId, entry);
    }
    entry.close(reason);
  }

  #remove(workspaceId: string, entry: Entry): void {
    clearTimeout(entry.timer);
    const entries = this.#byWorkspace.get(workspaceId);
    if (!entries?.delete(entry)) return;
    if (entries.size === 0) this.#byWorkspace.delete(workspaceId);
    for (const leave of entry.leaves.splice(0)) leave();
    if (entry.role === 'viewer' && entry.kind === 'ide' && !this.viewerIdeOpen(workspaceId)) {
      for (const listener of this.#viewerIdeGone) listener(workspaceId);
    }
  }
}
