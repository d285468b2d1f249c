// A workspace being prepared (or that failed to be): steps, live output and, on failure, why.
import { Show } from 'solid-js';
import type { Workspace } from '../api/types';
import { Callout } from '../components/callout';
import { LogPane } from '../components/log-pane';
import { StepList } from '../components/step-list';
import { Link } from '../lib/router';
import { canStart, continuedFailures, describeContinuedFailures, fatalStep } from '../lib/workspace-status';
import type { Connection, LogLine } from '../primitives/create-workspace-events';
import { WorkspaceSummary } from './workspace-summary';

export function ProgressView(props: {
  workspace: Workspace;
  logs: readonly LogLine[];
  now: number;
  connection: Connection;
  busy: boolean;
  actionError: string | null;
  onDelete: () => void;
  /** Starts a failed workspace whose files are kept (its sandbox died). */
  onStart: () => void;
}) {
  const failed = () => props.workspace.status === 'failed';
  const actions = () => (
    <>
      <Show when={canStart(props.workspace)}>
        <button
          type="button"
          class="button button-primary"
          onClick={() => props.onStart()}
          disabled={props.busy}
          data-testid="start-workspace"
        >
          Start again
        </button>
      </Show>
      <Link href="/" class="button">
        Back
      </Link>
      <button
        type="button"
        class="button button-danger-quiet"
        onClick={() => props.onDelete()}
        disabled={props.busy}
        data-testid="delete-workspace"
      >
        Delete
      </button>
    </>
  );
  const failedStep = () => fatalStep(props.workspace);
  const continued = () => continuedFailures(props.workspace);
  return (
    <div class="page page-narrow progress">
      <Link href="/" class="back-link">
        ← All workspaces
      </Link>
      <WorkspaceSummary workspace={props.workspace} headingLevel={1} />

      <Show when={failed()}>
        <Callout
          tone="error"
          testId="workspace-error"
          title={props.workspace.error?.message ?? 'The workspace could not be prepared.'}
        >
          <Show when={failedStep()}>
            {(step) => (
              <p>
                Failed at <strong>{step().label}</strong> (<span class="mono">{step().name}</span>).
              </p>
            )}
          </Show>
          <Show when={props.workspace.error?.detail}>
            {(detail) => <pre class="error-detail">{detail()}</pre>}
          </Show>
          <div class="callout-actions">{actions()}</div>
        </Callout>
      </Show>

      <Show when={props.connection === 'reconnecting'}>
        <p class="connection-note" role="status">
          Live updates interrupted. Reconnecting…
        </p>
      </Show>

      <Show when={!failed() && continued().length > 0}>
        <Callout
          tone="warning"
          testId="continued-failure"
          title={`${describeContinuedFailures(continued())}. The workspace continues.`}
        >
          <p>It will still open so you can fix the cause; the step below shows its output.</p>
        </Callout>
      </Show>

      <section class="card" aria-label="Progress">
        <StepList steps={props.workspace.steps} now={props.now} fatalStep={failedStep()?.name} />
      </section>

      <LogPane lines={props.logs} open={!failed() || props.logs.length > 0} />

      <Show when={props.actionError}>{(message) => <Callout tone="error" title={message()} />}</Show>

      <Show when={!failed()}>
        <div class="page-actions">{actions()}</div>
      </Show>
    </div>
  );
}
