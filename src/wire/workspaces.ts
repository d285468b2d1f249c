// The workspace contract: a workspace as REST, GraphQL, the progress stream
// (`/api/workspaces/:id/events`) and the UI see it. The environment's details are typed by the UI
// for now (the server keeps them as stored records), so `Workspace` takes their shape as a parameter.

export type WorkspaceStatus =
  | 'pending'
  | 'fetching'
  | 'building'
  | 'starting'
  | 'switching'
  | 'running'
  | 'stopped'
  /** Stopped by NixSpace after it sat idle: its files stay, and opening it starts it again. */
  | 'hibernated'
  | 'failed'
  | 'deleted';

export type StepName =
  | 'resolve'
  | 'fetch'
  | 'checkout'
  | 'detect'
  | 'build'
  | 'sandbox'
  | 'install'
  | 'services'
  | 'ready';

export type StepStatus = 'pending' | 'running' | 'done' | 'failed' | 'skipped';

export interface Step {
  name: StepName;
  label: string;
  status: StepStatus;
  startedAt: string | null;
  finishedAt: string | null;
  durationMs: number | null;
  /** One-line reason, for a failed step in particular. */
  detail: string | null;
  /** The last lines a step printed, kept when it failed (build, install, services). */
  log?: string[];
}

/** Why a workspace failed: the error body, with the step it failed in. */
export interface WorkspaceError {
  code: string;
  message: string;
  detail?: string;
  step?: StepName;
  /** The workspace's files are kept: starting it brings it back as it was. */
  filesKept?: boolean;
}

export type IdeState = 'installing' | 'starting' | 'running' | 'restarting' | 'failed' | 'stopped';

export interface IdeStatus {
  status: IdeState;
  /** When the running code-server became ready. */
  startedAt: string | null;
  restarts: number;
  /** Install progress, the reason it failed, or the last restart. */
  detail: string | null;
}

/**
 * How long the workspace lives: it is deleted (files and sandbox) at `expiresAt` unless its owner
 * keeps it. A kept workspace, or one made while the server set no lifetime, has no deadline.
 */
export interface WorkspaceLifetime {
  /** When it is deleted; null when it is kept. */
  expiresAt: string | null;
  /** When its owner chose to keep it; null when they have not. */
  keptAt: string | null;
  /** From when its owner is warned (an hour before `expiresAt`); null when it has no deadline. */
  warnFrom: string | null;
  /** The deadline is near (within the warning): the UI says so, with a Keep action for the owner. */
  expiring: boolean;
}

/**
 * Whether the workspace is in use. It is idle while no terminal, IDE or job is open in it; a
 * running workspace idle for the server's idle timeout hibernates.
 */
export interface WorkspaceIdle {
  /** Since when nothing has been open in the running workspace; null while something is, or it does not run. */
  idleSince: string | null;
  /** When it hibernates if nothing opens meanwhile; null when it is in use, does not run, or hibernation is off. */
  hibernatesAt: string | null;
  /** When it hibernated (status `hibernated`); null otherwise. */
  hibernatedAt: string | null;
}

/** The sandbox a running workspace is in. */
export interface WorkspaceSandbox {
  /** The driver's name: `bubblewrap`, `gvisor`, … (`process` when not isolated). */
  driver: string;
  isolated: boolean;
  /**
   * Set when NixSpace restarted the workspace because its agent stopped answering: when, and why.
   * Its processes were ended then; its files were kept.
   */
  restarted?: { at: string; reason: string };
}

export interface Workspace<Environment = unknown> {
  id: string;
  name: string;
  repoUrl: string;
  ref: string | null;
  commit: string | null;
  branch: string | null;
  status: WorkspaceStatus;
  error: WorkspaceError | null;
  steps: Step[];
  sandbox: WorkspaceSandbox | null;
  /** What the environment provides; null until it is built. */
  environment: Environment | null;
  /** VS Code (code-server) of the running workspace, with where it is served; null while it does not run. */
  ide: (IdeStatus & { url: string }) | null;
  urls: { events: string; terminal: string; ide: string };
  lifetime: WorkspaceLifetime;
  idle: WorkspaceIdle;
  /** The workspace this one was branched from, if any. */
  parentId: string | null;
  createdAt: string;
  updatedAt: string;
}

/**
 * A frame of the progress stream. The first is `hello`, with when this server process started: a
 * page that meets another start time knows the server restarted.
 */
export type WorkspaceEvent<Environment = unknown> =
  | { type: 'hello'; server: { startedAt: string } }
  | { type: 'workspace'; workspace: Workspace<Environment> }
  | { type: 'log'; step: StepName; line: string };
