// Shapes of the NixSpace REST and WebSocket API as the UI sees them; the parts already written
// once for server and UI come from the wire contract (src/wire).

import type { ErrorBody } from '@wire/errors';
import type { TerminalControl } from '@wire/terminal';
import type {
  IdeState,
  Step,
  StepName,
  StepStatus,
  IdeStatus as WireIdeStatus,
  Workspace as WireWorkspace,
  WorkspaceEvent as WireWorkspaceEvent,
  WorkspaceStatus,
} from '@wire/workspaces';

export type { ErrorBody, IdeState, Step, StepName, StepStatus, TerminalControl, WorkspaceStatus };

/** A workspace as every route and the progress stream show it, its environment as below. */
export type Workspace = WireWorkspace<Environment>;

/** VS Code (code-server) of a running workspace, with where it is served. */
export type IdeStatus = WireIdeStatus & { url: string };

export type EnvironmentProvider = 'nix' | 'host' | 'registry' | (string & {});

/** `reproducible` (Nix), `pinned` (exact releases from the npm registry over host tools), `none`. */
export type Reproducibility = 'reproducible' | 'pinned' | 'none';

export interface EnvironmentReportEntry {
  kind: 'toolchain' | 'service' | 'package-manager';
  name: string;
  wanted: string | null;
  provided: string | null;
  status: 'ok' | 'missing' | 'mismatch';
  /** What the repository literally asked for, when it differs from `wanted` (`>=18`). */
  requested?: string;
  /** Who supplies it: the host, the npm registry (a pinned release) or a Nix environment. */
  origin?: 'host' | 'registry' | 'environment';
  /** The file that asked for it, e.g. `.nvmrc` or `package.json`. */
  source?: string;
  message: string;
  /** For what is missing: why, and how to get it. */
  hint?: string;
}

export interface EnvironmentDiagnostic {
  severity: 'error' | 'warning' | 'info';
  code: string;
  message: string;
  file?: string;
  line?: number;
}

export type ServiceStatus = 'running' | 'failed' | 'missing' | 'restarting' | 'stopped' | (string & {});

export interface EnvironmentService {
  name: string;
  wantedVersion: string | null;
  version: string | null;
  status: ServiceStatus;
  port: number | null;
  versionMismatch: boolean;
  restarts: number;
  detail: string | null;
}

export interface EnvironmentInstall {
  label: string;
  /**
   * `cached`: restored from an earlier identical install (the same lockfile, or without one the
   * same manifest); `uncacheable`: nothing to key on or to restore.
   */
  result: 'installed' | 'cached' | 'unchanged' | 'uncacheable';
  key?: string;
  durationMs: number;
}

export interface Environment {
  /** Content hash of the environment. */
  hash: string;
  provider: EnvironmentProvider;
  /** False when host tools stand in for Nix. */
  reproducible: boolean;
  reproducibility: Reproducibility;
  /** Why Nix was not used, with the actual error; null for Nix environments. */
  fallback: { cause: 'nixpkgs' | 'nix' | 'configured'; detail: string; message: string } | null;
  /** An earlier build of the same hash was reused. */
  cached: boolean;
  report: EnvironmentReportEntry[];
  diagnostics: EnvironmentDiagnostic[];
  services: EnvironmentService[];
  installs: EnvironmentInstall[];
}

export interface User {
  id: string;
  email: string;
}

export type WorkspaceEvent = WireWorkspaceEvent<Environment>;

import type { ShareLink, ShareRole } from '@wire/shares';

export type { CreatedShare, ShareLink, ShareRole } from '@wire/shares';

/** What opening a share link gives: a workspace token (also set as cookies) in the link's role. */
export interface ShareVisit {
  token: string;
  expiresAt: string;
  role: ShareRole;
  link: ShareLink;
  workspace: Workspace;
}

export type {
  EnvironmentDiff,
  EnvironmentVersion,
  FactChange as EnvironmentChange,
} from '@wire/environments';

/** `GET /api/workspaces/:id/lineage`. */
export interface WorkspaceLineage {
  parent: Workspace | null;
  children: Workspace[];
}
