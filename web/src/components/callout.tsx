// A framed message: errors and notices that need to be read, not just noticed.
import type { JSX } from 'solid-js';
import { Show } from 'solid-js';
import { StatusIcon } from './status-icon';

export function Callout(props: {
  tone: 'error' | 'info';
  title: string;
  children?: JSX.Element;
  testId?: string;
  onDismiss?: () => void;
}) {
  return (
    <div
      class="callout"
      data-tone={props.tone}
      data-testid={props.testId}
      role={props.tone === 'error' ? 'alert' : 'status'}
    >
      <StatusIcon shape={props.tone === 'error' ? 'failed' : 'waiting'} />
      <div class="callout-body">
        <p class="callout-title">{props.title}</p>
        {props.children}
      </div>
      <Show when={props.onDismiss}>
        {(dismiss) => (
          <button type="button" class="button button-quiet button-small" onClick={() => dismiss()()}>
            Dismiss
          </button>
        )}
      </Show>
    </div>
  );
}
