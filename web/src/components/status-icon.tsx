// Status shapes: each state has its own outline, so status reads without relying on colour.
import { Match, Switch } from 'solid-js';

export type StatusShape =
  | 'waiting'
  | 'progress'
  | 'done'
  | 'running'
  | 'stopped'
  | 'failed'
  | 'skipped'
  | 'warning'
  | 'info';

export function StatusIcon(props: { shape: StatusShape }) {
  return (
    <svg
      class="status-icon"
      data-shape={props.shape}
      viewBox="0 0 16 16"
      width="16"
      height="16"
      aria-hidden="true"
    >
      <Switch>
        <Match when={props.shape === 'waiting'}>
          <circle
            cx="8"
            cy="8"
            r="5.5"
            fill="none"
            stroke="currentColor"
            stroke-width="1.5"
            stroke-dasharray="2 2"
          />
        </Match>
        <Match when={props.shape === 'progress'}>
          <circle
            cx="8"
            cy="8"
            r="5.5"
            fill="none"
            stroke="currentColor"
            stroke-opacity="0.25"
            stroke-width="2"
          />
          <path
            class="spin"
            d="M8 2.5a5.5 5.5 0 0 1 5.5 5.5"
            fill="none"
            stroke="currentColor"
            stroke-width="2"
            stroke-linecap="round"
          />
        </Match>
        <Match when={props.shape === 'done'}>
          <circle cx="8" cy="8" r="7" fill="currentColor" />
          <path
            d="M4.8 8.2l2.1 2.1 4.3-4.6"
            fill="none"
            stroke="var(--icon-ink)"
            stroke-width="1.8"
            stroke-linecap="round"
            stroke-linejoin="round"
          />
        </Match>
        <Match when={props.shape === 'running'}>
          <circle cx="8" cy="8" r="5" fill="currentColor" />
        </Match>
        <Match when={props.shape === 'stopped'}>
          <rect x="3.5" y="3.5" width="9" height="9" rx="1.5" fill="currentColor" />
        </Match>
        <Match when={props.shape === 'failed'}>
          <path
            d="M8 1.5l6.5 12H1.5z"
            fill="currentColor"
            stroke="currentColor"
            stroke-width="1"
            stroke-linejoin="round"
          />
          <path d="M8 6v3.5M8 11.3v.2" stroke="var(--icon-ink)" stroke-width="1.6" stroke-linecap="round" />
        </Match>
        {/* A diamond, not the triangle of `failed`: something went wrong but did not stop anything. */}
        <Match when={props.shape === 'warning'}>
          <path
            d="M8 1.2l6.8 6.8L8 14.8 1.2 8z"
            fill="currentColor"
            stroke="currentColor"
            stroke-linejoin="round"
          />
          <path d="M8 4.8v3.6M8 10.9v.2" stroke="var(--icon-ink)" stroke-width="1.6" stroke-linecap="round" />
        </Match>
        <Match when={props.shape === 'info'}>
          <circle cx="8" cy="8" r="6" fill="none" stroke="currentColor" stroke-width="1.5" />
          <path d="M8 7.2v4M8 4.8v.2" stroke="currentColor" stroke-width="1.6" stroke-linecap="round" />
        </Match>
        <Match when={props.shape === 'skipped'}>
          <path d="M4 8h8" stroke="currentColor" stroke-width="1.8" stroke-linecap="round" />
        </Match>
      </Switch>
    </svg>
  );
}
