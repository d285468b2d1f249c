// A running (or stopped) workspace: a slim bar on top, the terminal filling the rest.
import { lazy, Show, Suspense } from 'solid-js';
import type { Workspace } from '../api/types';
import { Callout } from '../components/callout';
import { Link } from '../lib/router';
import { WorkspaceSummary } from './workspace-summary';

// xterm.js is most of the bundle; load it only when a terminal is about to be shown.
const TerminalPane = lazy(() =>
  import('../terminal/terminal-pane').then((module) => ({ default: module.TerminalPane })),
);

export function WorkspaceView(props: {
  workspace: Workspace;
  busy: boolean;
  actionError: string | null;
  onStart: () => void;
  onStop: () => void;
  onDismissError?: () => void;
}) {
  const running = () => props.workspace.status === 'running';
  return (
    <div class="workspace-view">
      <header class="workspace-bar">
        <Link href="/" class="back-link" aria-label="Back to all workspaces">
          ← <span class="back-text">Workspaces</span>
        </Link>
        <WorkspaceSummary workspace={props.workspace} headingLevel={1} />
        <div class="workspace-bar-actions">
          <Show
            when={running()}
            fallback={
              <button
                type="button"
                class="button button-primary"
                onClick={() => props.onStart()}
                disabled={props.busy}
                data-testid="start-workspace"
              >
                Start
              </button>
            }
          >
            <button
              type="button"
              class="button"
              onClick={() => props.onStop()}
              disabled={props.busy}
              data-testid="stop-workspace"
            >
              Stop
            </button>
          </Show>
        </div>
      </header>
      <Show when={props.actionError}>
        {(message) => <Callout tone="error" title={message()} onDismiss={props.onDismissError} />}
      </Show>
      {/* Panes sit side by side; an IDE pane (code-server) will join the terminal here. */}
      <div class="workspace-panes">
        <Show
          when={running()}
          fallback={
            <section class="pane pane-stopped" aria-label="Workspace stopped">
              <p class="pane-stopped-title">This workspace is stopped.</p>
              <p>Start it to get a terminal again. Your files are kept.</p>
              <button
                type="button"
                class="button button-primary"
                onClick={() => props.onStart()}
                disabled={props.busy}
              >
                Start workspace
              </button>
            </section>
          }
        >
          <Suspense fallback={<section class="terminal-pane" aria-busy="true" />}>
            <TerminalPane workspaceId={props.workspace.id} />
          </Suspense>
        </Show>
      </div>
    </div>
  );
}
