// What each workspace status means for the UI: wording, which actions apply, and whether it can change
// on its own (the progress stream stays connected only while it can).
import type { StepStatus, Workspace, WorkspaceStatus } from '../api/types';

export const statusLabel: Record<WorkspaceStatus, string> = {
  pending: 'Queued',
  fetching: 'Fetching',
  building: 'Building',
  starting: 'Starting',
  running: 'Running',
  stopped: 'Stopped',
  failed: 'Failed',
  deleted: 'Deleted',
};

export const stepStatusLabel: Record<StepStatus, string> = {
  pending: 'Waiting',
  running: 'In progress',
  done: 'Done',
  failed: 'Failed',
  skipped: 'Skipped',
};

/** A settled workspace changes only when someone acts on it. */
export function isSettled(status: WorkspaceStatus): boolean {
  return status === 'running' || status === 'stopped' || status === 'failed' || status === 'deleted';
}

export function isInProgress(status: WorkspaceStatus): boolean {
  return !isSettled(status);
}

export function canStart(ws: Workspace): boolean {
  return ws.status === 'stopped';
}

export function canStop(ws: Workspace): boolean {
  return ws.status === 'running' || ws.status === 'starting';
}

export function canDelete(ws: Workspace): boolean {
  return ws.status !== 'deleted';
}
