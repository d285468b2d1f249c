// A workspace's lifetime and hibernation: when it is deleted (null: never), when its owner kept it,
// and when it hibernated after sitting idle (a status of its own). Workspaces made before have no
// deadline. Never edit after it lands.
export const sql = `
ALTER TABLE workspaces ADD COLUMN expires_at timestamptz;
ALTER TABLE workspaces ADD COLUMN kept_at timestamptz;
ALTER TABLE workspaces ADD COLUMN hibernated_at timestamptz;
ALTER TABLE workspaces DROP CONSTRAINT workspaces_status_check;
ALTER TABLE workspaces ADD CONSTRAINT workspaces_status_check CHECK (
  status IN ('pending', 'fetching', 'building', 'starting', 'running', 'switching', 'stopped', 'hibernated', 'failed', 'deleted')
);
CREATE INDEX workspaces_expires_at_idx ON workspaces (expires_at) WHERE expires_at IS NOT NULL;
`;
