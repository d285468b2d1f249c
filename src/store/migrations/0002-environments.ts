// Environments: an immutable EnvSpec plus its flake, named by content hash and built once, with
// lineage through parent_id. Workspaces record which environment they run and its report.
// Never edit after it lands.
export const sql = `
CREATE TABLE environments (
  id uuid PRIMARY KEY,
  hash text NOT NULL UNIQUE,
  parent_id uuid REFERENCES environments (id),
  provider text NOT NULL,
  reproducible boolean NOT NULL,
  flake_content text,
  spec jsonb NOT NULL,
  -- The activation environment (variables, shellHook) and the wanted-vs-provided report.
  activation jsonb NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  last_used_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX environments_parent_idx ON environments (parent_id);

ALTER TABLE workspaces ADD COLUMN environment_id uuid REFERENCES environments (id);
ALTER TABLE workspaces ADD COLUMN environment jsonb;
`;
