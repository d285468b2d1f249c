// What each workspace status means for the UI: wording, which actions apply, and whether it can change
// on its own (the progress stream stays connected only while it can).
import type { Step, StepName, StepStatus, Workspace, WorkspaceStatus } from '../api/types';

export const statusLabel: Record<WorkspaceStatus, string> = {
  pending: 'Queued',
  fetching: 'Fetching',
  building: 'Building',
  starting: 'Starting',
  switching: 'Switching',
  running: 'Running',
  stopped: 'Stopped',
  hibernated: 'Hibernated',
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

/**
 * How a step ended as the UI tells it: `continued` is a failure that did not stop the workspace
 * (an environment build, dependency install or service), distinct from the failure that did.
 */
export type StepOutcome = StepStatus | 'continued';

export const stepOutcomeLabel: Record<StepOutcome, string> = {
  ...stepStatusLabel,
  continued: 'Failed, workspace continues',
};

/** The step that stopped a failed workspace: the last one that failed. */
export function fatalStep(ws: Workspace): Step | undefined {
  if (ws.status !== 'failed') return undefined;
  return ws.steps.findLast((step) => step.status === 'failed');
}

export function stepOutcome(step: Step, fatal: StepName | undefined): StepOutcome {
  return step.status === 'failed' && step.name !== fatal ? 'continued' : step.status;
}

/** Failed steps the workspace carried on past: it stays usable so the owner can fix the cause. */
export function continuedFailures(ws: Workspace): Step[] {
  const fatal = fatalStep(ws)?.name;
  return ws.steps.filter((step) => stepOutcome(step, fatal) === 'continued');
}

const failureSentence: Partial<Record<StepName, string>> = {
  build: 'The environment build failed',
  install: 'The dependency install failed',
  services: 'A backing service failed to start',
};

/** "The dependency install failed", or "Build environment and Install dependencies failed". */
export function describeContinuedFailures(steps: readonly Step[]): string {
  const [only] = steps;
  if (steps.length === 1 && only) return failureSentence[only.name] ?? `${only.label} failed`;
  const labels = steps.map((step) => step.label);
  return `${labels.slice(0, -1).join(', ')} and ${labels[labels.length - 1]} failed`;
}

/** A settled workspace changes only when someone acts on it. */
export function isSettled(status: WorkspaceStatus): boolean {
  return (
    status === 'running' ||
    status === 'stopped' ||
    status === 'hibernated' ||
    status === 'failed' ||
    status === 'deleted'
  );
}

export function isInProgress(status: WorkspaceStatus): boolean {
  return !isSettled(status);
}

export function canStart(ws: Workspace): boolean {
  return (
    ws.status === 'stopped' ||
    ws.status === 'hibernated' ||
    (ws.status === 'failed' && ws.error?.filesKept === true)
  );
}

export function canStop(ws: Workspace): boolean {
  return ws.status === 'running' || ws.status === 'starting';
}

export function canDelete(ws: Workspace): boolean {
  return ws.status !== 'deleted';
}
