// Jobs: commands run in a workspace sandbox or on a host over SSH, with their output kept as
// ordered chunks at byte offsets; and the SSH hosts jobs can target. Never edit after it lands.
export const sql = `
CREATE TABLE ssh_hosts (
  id uuid PRIMARY KEY,
  owner_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  name text NOT NULL,
  host text NOT NULL,
  port integer NOT NULL CHECK (port BETWEEN 1 AND 65535),
  username text NOT NULL,
  -- An OpenSSH or PEM private key; never sent back to a client.
  private_key text NOT NULL,
  -- known_hosts lines that the host's key must match.
  known_hosts text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX ssh_hosts_owner_idx ON ssh_hosts (owner_id);

CREATE TABLE jobs (
  id uuid PRIMARY KEY,
  command text NOT NULL CHECK (length(command) > 0),
  type text NOT NULL CHECK (type IN ('stream', 'terminal', 'ssh')),
  status text NOT NULL CHECK (status IN ('running', 'succeeded', 'failed', 'cancelled', 'lost')),
  started_at timestamptz NOT NULL DEFAULT now(),
  finished_at timestamptz,
  exit_code integer,
  owner_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  workspace_id uuid REFERENCES workspaces (id) ON DELETE CASCADE,
  ssh_host_id uuid REFERENCES ssh_hosts (id) ON DELETE SET NULL,
  -- Where it ran, readable after the workspace or host is gone.
  target_label text NOT NULL,
  cwd text,
  -- Why it ended when no exit code says so (signal, lost, failed to start).
  reason text,
  -- Bytes of output produced, and how many of them were cut by the size limit.
  output_bytes bigint NOT NULL DEFAULT 0,
  cut_bytes bigint NOT NULL DEFAULT 0
);
CREATE INDEX idx_jobs_status ON jobs (status);
CREATE INDEX jobs_owner_started_idx ON jobs (owner_id, started_at DESC);
CREATE INDEX jobs_workspace_started_idx ON jobs (workspace_id, started_at DESC);

CREATE TABLE job_events (
  id bigserial PRIMARY KEY,
  job_id uuid NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
  ts timestamptz NOT NULL DEFAULT now(),
  stream text NOT NULL CHECK (stream IN ('stdout', 'stderr', 'system')),
  chunk text NOT NULL,
  -- Position of the chunk's first byte (UTF-8) in the job's output, all streams together.
  byte_offset bigint NOT NULL,
  -- Set on a system event that stands for output which could not be stored.
  error boolean NOT NULL DEFAULT false
);
CREATE INDEX idx_job_events_job_id_ts ON job_events (job_id, ts);
CREATE UNIQUE INDEX job_events_job_offset_idx ON job_events (job_id, byte_offset);
CREATE INDEX job_events_ts_idx ON job_events (ts);
`;
