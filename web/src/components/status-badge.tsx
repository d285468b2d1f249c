// A workspace status as a pill: shape, word and colour together.
import type { WorkspaceStatus } from '../api/types';
import { statusLabel } from '../lib/workspace-status';
import { StatusIcon, type StatusShape } from './status-icon';

const shapeOf: Record<WorkspaceStatus, StatusShape> = {
  pending: 'waiting',
  fetching: 'progress',
  building: 'progress',
  starting: 'progress',
  switching: 'progress',
  running: 'running',
  stopped: 'stopped',
  hibernated: 'stopped',
  failed: 'failed',
  deleted: 'skipped',
};

export function StatusBadge(props: { status: WorkspaceStatus; testId?: string }) {
  return (
    <span class="badge" data-status={props.status} data-testid={props.testId}>
      <StatusIcon shape={shapeOf[props.status]} />
      <span>{statusLabel[props.status]}</span>
    </span>
  );
}
