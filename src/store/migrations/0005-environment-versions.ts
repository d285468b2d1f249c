// Environment versions and workspace lineage. Each environment a workspace has run with, like commits of its
// environment — which build, at which commit, and what changed against the one before (a
// structured EnvSpec diff). Rollback returns a workspace to one of them. Never edit after it lands.
export const sql = `
CREATE TABLE environment_versions (
  id uuid PRIMARY KEY,
  workspace_id uuid NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
  environment_id uuid NOT NULL REFERENCES environments (id),
  parent_environment_id uuid REFERENCES environments (id),
  commit_id text NOT NULL,
  ref text,
  message text NOT NULL,
  changes jsonb NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX environment_versions_workspace_idx ON environment_versions (workspace_id, created_at DESC);

-- A branched workspace knows the workspace it was branched from.
ALTER TABLE workspaces ADD COLUMN parent_id uuid REFERENCES workspaces (id) ON DELETE SET NULL;
CREATE INDEX workspaces_parent_idx ON workspaces (parent_id);
`;
