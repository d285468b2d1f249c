// A job status as a pill: a shape, a word and a colour, so it reads without colour vision.
import type { JobStatus } from '@wire/jobs';
import { StatusIcon, type StatusShape } from '../status-icon';

const shapeOf: Record<JobStatus, StatusShape> = {
  running: 'progress',
  succeeded: 'done',
  failed: 'failed',
  cancelled: 'stopped',
  lost: 'warning',
};

const labelOf: Record<JobStatus, string> = {
  running: 'Running',
  succeeded: 'Succeeded',
  failed: 'Failed',
  cancelled: 'Cancelled',
  lost: 'Lost',
};

export function JobStatusBadge(props: { status: JobStatus; exitCode?: number | null; testId?: string }) {
  return (
    <span class="badge job-badge" data-job-status={props.status} data-testid={props.testId}>
      <StatusIcon shape={shapeOf[props.status]} />
      <span>
        {labelOf[props.status]}
        {props.status === 'failed' && props.exitCode !== null && props.exitCode !== undefined
          ? ` (exit ${props.exitCode})`
          : ''}
      </span>
    </span>
  );
}
