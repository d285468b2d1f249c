// The preparation steps of a workspace, top to bottom, with live timing on the one in progress.
import { For, Show } from 'solid-js';
import type { Step, StepStatus } from '../api/types';
import { formatDuration } from '../lib/format';
import { stepStatusLabel } from '../lib/workspace-status';
import { StatusIcon, type StatusShape } from './status-icon';

const shapeOf: Record<StepStatus, StatusShape> = {
  pending: 'waiting',
  running: 'progress',
  done: 'done',
  failed: 'failed',
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

export function StepList(props: { steps: readonly Step[]; now: number }) {
  return (
    <ol class="step-list" aria-label="Preparation steps">
      <For each={props.steps}>
        {(step) => (
          <li
            class="step"
            data-testid={`step-${step.name}`}
            data-status={step.status}
            aria-current={step.status === 'running' ? 'step' : undefined}
          >
            <StatusIcon shape={shapeOf[step.status]} />
            <div class="step-text">
              <span class="step-label">{step.label}</span>
              <span class="step-meta">
                <span class="step-name mono">{step.name}</span>
                <Show when={stepTiming(step, props.now)}>
                  {(timing) => <span class="step-duration"> · {timing()}</span>}
                </Show>
                <span class="visually-hidden">, {stepStatusLabel[step.status]}</span>
              </span>
              <Show when={step.detail}>{(detail) => <span class="step-detail">{detail()}</span>}</Show>
            </div>
            <span class="step-status" aria-hidden="true">
              {stepStatusLabel[step.status]}
            </span>
          </li>
        )}
      </For>
    </ol>
  );
}
