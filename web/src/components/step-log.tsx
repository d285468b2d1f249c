// The last lines a failed step printed, folded away until asked for.
import { Show } from 'solid-js';

export function StepLog(props: { lines: readonly string[] | undefined; stepName: string; open?: boolean }) {
  return (
    <Show when={props.lines && props.lines.length > 0 ? props.lines : undefined}>
      {(lines) => (
        <details class="step-log" open={props.open ?? false} data-testid={`step-log-${props.stepName}`}>
          <summary>
            Output <span class="log-count">(last {lines().length} lines)</span>
          </summary>
          <div class="step-log-text" tabindex="0" role="log" aria-label={`Output of ${props.stepName}`}>
            {lines().join('\n')}
          </div>
        </details>
      )}
    </Show>
  );
}
