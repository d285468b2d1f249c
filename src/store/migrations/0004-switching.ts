// A running workspace can move to another ref in place: `switching` while it does.
// Never edit after it lands.
export const sql = `
ALTER TABLE workspaces DROP CONSTRAINT workspaces_status_check;
ALTER TABLE workspaces ADD CONSTRAINT workspaces_status_check CHECK (
  status IN ('pending', 'fetching', 'building', 'starting', 'running', 'switching', 'stopped', 'failed', 'deleted')
);
`;
