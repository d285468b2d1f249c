// The preparation steps of a workspace, top to bottom, with live timing on the one in progress.
// A step that failed without stopping the workspace reads as a warning, not as the failure.
import { Index, Show } from 'solid-js';
import type { Step, StepName } from '../api/types';
import { formatDuration } from '../lib/format';
import { type StepOutcome, stepOutcome, stepOutcomeLabel } from '../lib/workspace-status';
import { StatusIcon, type StatusShape } from './status-icon';
import { StepLog } from './step-log';

const shapeOf: Record<StepOutcome, StatusShape> = {
  pending: 'waiting',
  running: 'progress',
  done: 'done',
  failed: 'failed',
  continued: 'warning',
  skipped: 'skipped',
};

function stepTiming(step: Step, now: number): string | null {
  if (step.durationMs !== null) return formatDuration(step.durationMs);
  if (step.status === 'running' && step.startedAt) {
    const started = Date.parse(step.startedAt);
    if (!Number.isNaN(started)) return formatDuration(now - started);
  }
  return null;
}

export function StepList(props: { steps: readonly Step[]; now: number; fatalStep?: StepName | undefined }) {
  return (
    <ol class="step-list" aria-label="Preparation steps">
      {/* By position, so a row (and its opened log) survives each new snapshot of the workspace. */}
      <Index each={props.steps}>
        {(step) => {
          const outcome = () => stepOutcome(step(), props.fatalStep);
          return (
            <li
              class="step"
              data-testid={`step-${step().name}`}
              data-status={step().status}
              data-outcome={outcome()}
              aria-current={step().status === 'running' ? 'step' : undefined}
            >
              <StatusIcon shape={shapeOf[outcome()]} />
              <div class="step-text">
                <span class="step-label">{step().label}</span>
                <span class="step-meta">
                  <span class="step-name mono">{step().name}</span>
                  <Show when={stepTiming(step(), props.now)}>
                    {(timing) => <span class="step-duration"> · {timing()}</span>}
                  </Show>
                  <span class="visually-hidden">, {stepOutcomeLabel[outcome()]}</span>
                </span>
                <Show when={step().detail}>{(detail) => <span class="step-detail">{detail()}</span>}</Show>
              </div>
              <span class="step-status" aria-hidden="true">
                {stepOutcomeLabel[outcome()]}
              </span>
              <Show when={step().status === 'failed'}>
                <StepLog lines={step().log} stepName={step().name} />
              </Show>
            </li>
          );
        }}
      </Index>
    </ol>
  );
}
