// Shapes of the NixSpace REST and WebSocket API as the UI sees them.

export type WorkspaceStatus =
  | 'pending'
  | 'fetching'
  | 'building'
  | 'starting'
  | 'running'
  | 'stopped'
  | 'failed'
  | 'deleted';

export type StepName = 'resolve' | 'fetch' | 'checkout' | 'detect' | 'sandbox' | 'ready';

export type StepStatus = 'pending' | 'running' | 'done' | 'failed' | 'skipped';

export interface Step {
  name: StepName;
  label: string;
  status: StepStatus;
  startedAt: string | null;
  finishedAt: string | null;
  durationMs: number | null;
  detail: string | null;
}

export interface ErrorBody {
  code: string;
  message: string;
  detail?: string;
}

export interface Workspace {
  id: string;
  name: string;
  repoUrl: string;
  ref: string | null;
  commit: string | null;
  branch: string | null;
  status: WorkspaceStatus;
  error: ErrorBody | null;
  steps: Step[];
  sandbox: { driver: string; isolated: boolean } | null;
  urls: { events: string; terminal: string };
  createdAt: string;
  updatedAt: string;
}

export interface User {
  id: string;
  email: string;
}

export type WorkspaceEvent =
  | { type: 'workspace'; workspace: Workspace }
  | { type: 'log'; step: StepName; line: string };

export type TerminalControl =
  | { type: 'hello'; terminalId: string; replayed: boolean }
  | { type: 'exit'; code: number }
  | { type: 'error'; code: string; message: string };
