// The share-link contract: a link as `GET /api/workspaces/:id/shares` lists it, and one just made.

export type ShareRole = 'viewer' | 'editor';

export interface ShareLink {
  id: string;
  workspaceId: string;
  role: ShareRole;
  /** Opens the workspace without an account. */
  anonymous: boolean;
  expiresAt: string | null;
  createdAt: string;
  lastUsedAt: string | null;
  /** People in the workspace through this link now. */
  activeUsers: number;
}

/** A link just created: its token and URL are shown this once. */
export interface CreatedShare extends ShareLink {
  /** The secret: shown once, stored only as its sha256. */
  token: string;
  /** Root-relative link to open (`/s/<token>`), and the same with the server's public origin. */
  path: string;
  url: string;
}
