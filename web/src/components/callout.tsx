// A framed message: errors and notices that need to be read, not just noticed.
import type { JSX } from 'solid-js';
import { Show } from 'solid-js';
import { StatusIcon, type StatusShape } from './status-icon';

type Tone = 'error' | 'warning' | 'info';

const shapeOf: Record<Tone, StatusShape> = { error: 'failed', warning: 'warning', info: 'waiting' };

export function Callout(props: {
  tone: Tone;
  title: string;
  children?: JSX.Element;
  testId?: string;
  onDismiss?: () => void;
  /** Buttons that act on the message, shown before Dismiss. */
  actions?: JSX.Element;
  /** Names what Dismiss closes, for screen readers: "Dismiss <label>". */
  dismissLabel?: string;
}) {
  return (
    <div
      class="callout"
      data-tone={props.tone}
      data-testid={props.testId}
      role={props.tone === 'error' ? 'alert' : 'status'}
    >
      <StatusIcon shape={shapeOf[props.tone]} />
      <div class="callout-body">
        <p class="callout-title">{props.title}</p>
        {props.children}
      </div>
      <Show when={props.actions}>
        <div class="callout-inline-actions">{props.actions}</div>
      </Show>
      <Show when={props.onDismiss}>
        {(dismiss) => (
          <button
            type="button"
            class="button button-quiet button-small"
            onClick={() => dismiss()()}
            aria-label={props.dismissLabel ? `Dismiss ${props.dismissLabel}` : undefined}
            data-testid={props.testId ? `${props.testId}-dismiss` : undefined}
          >
            Dismiss
          </button>
        )}
      </Show>
    </div>
  );
}
