// Share links: capability URLs granting a role (viewer, editor) on one workspace, with an expiry,
// revocable. Only the sha256 of a link's token is stored. Never edit after it lands.
export const sql = `
CREATE TABLE share_links (
  id uuid PRIMARY KEY,
  workspace_id uuid NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
  created_by uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  token_hash text NOT NULL UNIQUE,
  role text NOT NULL CHECK (role IN ('viewer', 'editor')),
  -- Whether the link opens the workspace for a holder without an account.
  anonymous boolean NOT NULL,
  expires_at timestamptz,
  revoked_at timestamptz,
  last_used_at timestamptz,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX share_links_workspace_idx ON share_links (workspace_id, created_at DESC);
`;
