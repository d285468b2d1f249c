// The public shape of a workspace, as REST, GraphQL, the progress stream and the UI see it.

import { redactUrl } from '../../git/repo-url.js';
import type {
  StepName,
  StepRecord,
  WorkspaceEnvironmentRecord,
  WorkspaceErrorRecord,
  WorkspaceRow,
} from '../../store/schema.js';
import type { IdeStatus, Step, Workspace } from '../../wire/workspaces.js';
import { idleView, type LifetimeSettings, lifetimeView } from './lifetime.js';

export const stepLabels: Record<StepName, string> = {
  resolve: 'Resolve ref',
  fetch: 'Fetch',
  checkout: 'Check out',
  detect: 'Detect environment',
  build: 'Build environment',
  sandbox: 'Start sandbox',
  install: 'Install dependencies',
  services: 'Start services',
  ready: 'Ready',
};

export const creationSteps: readonly StepName[] = [
  'resolve',
  'fetch',
  'checkout',
  'detect',
  'build',
  'sandbox',
  'install',
  'services',
  'ready',
];

export type StepView = Step;

/** The wire's workspace, its environment as the store keeps it. */
export type WorkspaceView = Workspace<WorkspaceEnvironmentRecord>;

/** What the view knows beyond the row: the limits, the time, and since when nothing is open in it. */
export interface ViewContext {
  settings: LifetimeSettings;
  now: Date;
  idleSince: number | undefined;
}

export function toWorkspaceView(
  row: WorkspaceRow,
  ide: IdeStatus | null = null,
  context: ViewContext = {
    settings: { lifetimeMs: 0, warningMs: 0, idleTimeoutMs: 0 },
    now: new Date(),
    idleSince: undefined,
  },
): WorkspaceView {
  const ideUrl = `/ide/${row.id}/`;
  const steps = row.steps as unknown as StepRecord[];
  return {
    id: row.id,
    name: row.name,
    // Stored URLs carry no credentials (they are refused); this keeps it so for any row that would.
    repoUrl: redactUrl(row.repo_url),
    ref: row.ref,
    commit: row.commit_id,
    branch: row.branch,
    status: row.status,
    error: (row.error as unknown as WorkspaceErrorRecord | null) ?? null,
    steps: steps.map((step) => ({ ...step, label: stepLabels[step.name] })),
    sandbox: (row.sandbox as unknown as WorkspaceView['sandbox']) ?? null,
    environment: row.environment ? environmentView(row.environment) : null,
    ide: ide && row.status === 'running' ? { ...ide, url: ideUrl } : null,
    urls: {
      events: `/api/workspaces/${row.id}/events`,
      terminal: `/api/workspaces/${row.id}/terminal`,
      ide: ideUrl,
    },
    lifetime: lifetimeView(row, context.now, context.settings),
    idle: idleView(row, context.idleSince, context.settings),
    parentId: row.parent_id ?? null,
    createdAt: row.created_at.toISOString(),
    updatedAt: row.updated_at.toISOString(),
  };
}

/** Records written before the reproducibility level and the fallback reason existed get both. */
function environmentView(record: WorkspaceEnvironmentRecord): WorkspaceEnvironmentRecord {
  return {
    ...record,
    reproducibility: record.reproducibility ?? (record.reproducible ? 'reproducible' : 'none'),
    fallback: record.fallback ?? null,
  };
}

export function pendingSteps(): StepRecord[] {
  return creationSteps.map((name) => ({
    name,
    status: 'pending',
    startedAt: null,
    finishedAt: null,
    durationMs: null,
    detail: null,
  }));
}
