// Row types of the database, as Kysely sees them.

import type { ColumnType, Generated, Insertable, Selectable } from 'kysely';
import type { JobStatus, JobStream, JobType } from '../wire/jobs.js';
import type { Step, StepName, StepStatus, WorkspaceError, WorkspaceStatus } from '../wire/workspaces.js';

type CreatedAt = ColumnType<Date, Date | string | undefined, never>;
type Timestamp = ColumnType<Date, Date | string, Date | string>;
type Json<T> = ColumnType<T, string, string>;

export interface UsersTable {
  id: string;
  email: string;
  role: 'owner' | 'member';
  created_at: CreatedAt;
}

export interface LoginLinksTable {
  token_hash: string;
  user_id: string;
  expires_at: Timestamp;
  used_at: ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
  created_at: CreatedAt;
}

export interface AuthSessionsTable {
  /** Named by the workspace tokens the session asks for (never the token itself). */
  id: Generated<string>;
  token_hash: string;
  user_id: string;
  expires_at: Timestamp;
  last_seen_at: ColumnType<Date, Date | string | undefined, Date | string>;
  created_at: CreatedAt;
}

export type { StepName, StepStatus, WorkspaceStatus };

/** A step as stored: its label is the view's. */
export type StepRecord = Omit<Step, 'label'>;

export type WorkspaceErrorRecord = WorkspaceError;

export interface SandboxRecord {
  driver: string;
  isolated: boolean;
}

/** What a workspace's environment provides, kept on the workspace for the API and UI. */
export interface WorkspaceEnvironmentRecord {
  hash: string;
  provider: string;
  reproducible: boolean;
  /** `reproducible` (Nix), `pinned` (releases from the npm registry over host tools), `none`; absent in records older than it. */
  reproducibility?: 'reproducible' | 'pinned' | 'none';
  /** Why Nix was not used: its cause, the actual error, and a sentence for the UI. */
  fallback?: { cause: string; detail: string; message: string } | null;
  cached: boolean;
  report: unknown[];
  diagnostics: unknown[];
  services: unknown[];
  installs: unknown[];
}

export interface EnvironmentsTable {
  id: string;
  hash: string;
  parent_id: string | null;
  provider: string;
  reproducible: boolean;
  flake_content: string | null;
  spec: Json<unknown>;
  activation: Json<{ env: Record<string, string>; shellHook: string | null; report: unknown[] }>;
  created_at: CreatedAt;
  last_used_at: ColumnType<Date, Date | string | undefined, Date | string>;
}

export interface WorkspacesTable {
  id: string;
  owner_id: string;
  name: string;
  repo_url: string;
  ref: string | null;
  commit_id: string | null;
  branch: string | null;
  status: WorkspaceStatus;
  error: Json<WorkspaceErrorRecord | null> | null;
  steps: Json<StepRecord[]>;
  sandbox: Json<SandboxRecord | null> | null;
  environment_id: ColumnType<string | null, string | null | undefined, string | null>;
  environment: ColumnType<WorkspaceEnvironmentRecord | null, string | null | undefined, string | null>;
  parent_id: ColumnType<string | null, string | null | undefined, string | null>;
  /** A branch's changes to its environment (EnvChanges), applied over detection. */
  environment_changes: ColumnType<unknown | null, string | null | undefined, string | null>;
  /** When the workspace is deleted; null: never (kept, or made without a lifetime). */
  expires_at: ColumnType<Date | null, Date | null | undefined, Date | null>;
  /** When its owner kept it past its lifetime. */
  kept_at: ColumnType<Date | null, Date | null | undefined, Date | null>;
  /** When it hibernated after sitting idle (status `hibernated`). */
  hibernated_at: ColumnType<Date | null, Date | null | undefined, Date | null>;
  /** The sandbox driver it runs on, chosen when it was made; null: the server's default. */
  sandbox_driver: ColumnType<string | null, string | null | undefined, never>;
  created_at: CreatedAt;
  updated_at: Timestamp;
}

export interface EnvironmentVersionsTable {
  id: string;
  workspace_id: string;
  environment_id: string;
  parent_environment_id: string | null;
  commit_id: string;
  ref: string | null;
  message: string;
  changes: Json<unknown>;
  created_at: CreatedAt;
}

export type ShareRole = 'viewer' | 'editor';

export interface ShareLinksTable {
  id: string;
  workspace_id: string;
  created_by: string;
  token_hash: string;
  role: ShareRole;
  anonymous: boolean;
  expires_at: ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
  revoked_at: ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
  last_used_at: ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
  created_at: CreatedAt;
}

export interface SshHostsTable {
  id: string;
  owner_id: string;
  name: string;
  host: string;
  port: number;
  username: string;
  private_key: string;
  known_hosts: string;
  created_at: CreatedAt;
}

export interface JobsTable {
  id: string;
  command: string;
  type: JobType;
  status: JobStatus;
  started_at: CreatedAt;
  finished_at: ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
  exit_code: number | null;
  owner_id: string;
  workspace_id: string | null;
  ssh_host_id: string | null;
  target_label: string;
  cwd: string | null;
  reason: string | null;
  /** bigint columns come back as strings from pg; the queries convert them. */
  output_bytes: ColumnType<string | number, number | undefined, number>;
  cut_bytes: ColumnType<string | number, number | undefined, number>;
  /** Where a job the agent keeps running stood when the server stopped (JobResume). */
  resume: ColumnType<unknown, string | null | undefined, string | null>;
}

export interface JobEventsTable {
  id: Generated<string>;
  job_id: string;
  ts: ColumnType<Date, Date | string | undefined, never>;
  stream: JobStream;
  chunk: string;
  byte_offset: ColumnType<string | number, number, never>;
  error: ColumnType<boolean, boolean | undefined, never>;
  /** Bytes of output an error event stands for; null for every other event (its chunk's length). */
  covers: ColumnType<string | number | null, number | null | undefined, never>;
}

export interface Database {
  users: UsersTable;
  login_links: LoginLinksTable;
  auth_sessions: AuthSessionsTable;
  workspaces: WorkspacesTable;
  environments: EnvironmentsTable;
  environment_versions: EnvironmentVersionsTable;
  ssh_hosts: SshHostsTable;
  jobs: JobsTable;
  job_events: JobEventsTable;
  share_links: ShareLinksTable;
}

export type UserRow = Selectable<UsersTable>;
export type EnvironmentRow = Selectable<EnvironmentsTable>;
export type EnvironmentVersionRow = Selectable<EnvironmentVersionsTable>;
export type WorkspaceRow = Selectable<WorkspacesTable>;
export type SshHostRow = Selectable<SshHostsTable>;
export type JobRow = Selectable<JobsTable>;
export type ShareLinkRow = Selectable<ShareLinksTable>;
export type NewWorkspace = Insertable<WorkspacesTable>;
export type { Generated };
