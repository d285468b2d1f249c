// Accounts, sign-in, and workspaces with their persisted state machine. Never edit after it lands.
export const sql = `
CREATE TABLE users (
  id uuid PRIMARY KEY,
  email text NOT NULL UNIQUE,
  role text NOT NULL CHECK (role IN ('owner', 'member')),
  created_at timestamptz NOT NULL DEFAULT now()
);

-- One-time sign-in links; only the sha256 of the token is stored.
CREATE TABLE login_links (
  token_hash text PRIMARY KEY,
  user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  expires_at timestamptz NOT NULL,
  used_at timestamptz,
  created_at timestamptz NOT NULL DEFAULT now()
);

-- Browser sessions (cookie holds the token, the table its sha256).
CREATE TABLE auth_sessions (
  token_hash text PRIMARY KEY,
  user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  expires_at timestamptz NOT NULL,
  last_seen_at timestamptz NOT NULL DEFAULT now(),
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX auth_sessions_user_idx ON auth_sessions (user_id);

CREATE TABLE workspaces (
  id uuid PRIMARY KEY,
  owner_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  name text NOT NULL,
  repo_url text NOT NULL,
  ref text,
  commit_id text,
  branch text,
  status text NOT NULL CHECK (
    status IN ('pending', 'fetching', 'building', 'starting', 'running', 'stopped', 'failed', 'deleted')
  ),
  error jsonb,
  steps jsonb NOT NULL DEFAULT '[]'::jsonb,
  sandbox jsonb,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX workspaces_owner_idx ON workspaces (owner_id, created_at DESC);
CREATE INDEX workspaces_status_idx ON workspaces (status);
`;
