// A running (or stopped) workspace: a slim bar on top, the terminal filling the rest, and on demand
// the Environment panel beside it (the terminal narrows and refits rather than being covered).
import { createSignal, lazy, Show, Suspense } from 'solid-js';
import type { Workspace } from '../api/types';
import { Callout } from '../components/callout';
import { EnvironmentPanel } from '../components/environment-panel';
import { JobsPanel } from '../components/jobs/jobs-panel';
import { ReproducibleBadge } from '../components/reproducible-badge';
import { StatusIcon } from '../components/status-icon';
import { environmentIssueCount } from '../lib/environment';
import { Link } from '../lib/router';
import { continuedFailures, describeContinuedFailures } from '../lib/workspace-status';
import { WorkspaceSummary } from './workspace-summary';

// xterm.js is most of the bundle; load it only when a terminal is about to be shown.
const TerminalPane = lazy(() =>
  import('../terminal/terminal-pane').then((module) => ({ default: module.TerminalPane })),
);

const panelId = 'environment-panel';

export function WorkspaceView(props: {
  workspace: Workspace;
  busy: boolean;
  actionError: string | null;
  refreshing: boolean;
  onStart: () => void;
  onStop: () => void;
  onRefresh: () => void;
  onDismissError?: () => void;
}) {
  const running = () => props.workspace.status === 'running';
  const failures = () => continuedFailures(props.workspace);
  const issues = () => failures().length + environmentIssueCount(props.workspace.environment);

  const [panelOpen, setPanelOpen] = createSignal(false);
  const [jobsOpen, setJobsOpen] = createSignal(false);
  let toggle!: HTMLButtonElement;
  const closePanel = () => {
    setPanelOpen(false);
    toggle.focus();
  };

  // Dismissing the banner hides these failures; a later run that fails again shows it anew.
  const failureKey = () =>
    failures()
      .map((step) => `${step.name}@${step.finishedAt ?? ''}`)
      .join(' ');
  const [dismissedKey, setDismissedKey] = createSignal<string | null>(null);
  const showBanner = () => failures().length > 0 && dismissedKey() !== failureKey();
  const bannerTitle = () => {
    const logs = failures().length > 1 ? 'the logs' : 'the log';
    return `${describeContinuedFailures(failures())} — open Environment for ${logs}.`;
  };

  return (
    <div class="workspace-view">
      <header class="workspace-bar">
        <Link href="/" class="back-link" aria-label="Back to all workspaces">
          ← <span class="back-text">Workspaces</span>
        </Link>
        <WorkspaceSummary workspace={props.workspace} headingLevel={1} />
        <div class="workspace-bar-actions">
          <Show when={props.workspace.environment}>
            {(env) => <ReproducibleBadge environment={env()} testId="reproducible-badge" />}
          </Show>
          <button
            type="button"
            class="button"
            aria-expanded={jobsOpen()}
            aria-controls={jobsOpen() ? 'jobs-pane' : undefined}
            onClick={() => setJobsOpen(!jobsOpen())}
            disabled={!running()}
            data-testid="jobs-toggle"
          >
            Jobs
          </button>
          <button
            type="button"
            class="button env-toggle"
            ref={toggle}
            aria-expanded={panelOpen()}
            aria-controls={panelOpen() ? panelId : undefined}
            onClick={() => (panelOpen() ? closePanel() : setPanelOpen(true))}
            data-testid="environment-toggle"
          >
            Environment
            <Show when={issues() > 0}>
              <span class="env-toggle-issues" data-testid="environment-issues">
                <StatusIcon shape="warning" />
                {issues()}
                <span class="visually-hidden">{issues() === 1 ? ' issue' : ' issues'}</span>
              </span>
            </Show>
          </button>
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
      <Show when={showBanner()}>
        <Callout
          tone="warning"
          title={bannerTitle()}
          testId="step-failure-banner"
          dismissLabel="this warning"
          onDismiss={() => setDismissedKey(failureKey())}
          actions={
            <Show when={!panelOpen()}>
              <button
                type="button"
                class="button button-small"
                onClick={() => setPanelOpen(true)}
                data-testid="open-environment"
              >
                Open Environment
              </button>
            </Show>
          }
        />
      </Show>
      {/* Panes sit side by side; an IDE pane (code-server) will join the terminal here. */}
      <div class="workspace-panes" data-panel-open={panelOpen()}>
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
        <Show when={jobsOpen() && running()}>
          <JobsPanel
            id="jobs-pane"
            workspaceId={props.workspace.id}
            targets={[{ id: props.workspace.id, label: props.workspace.name, kind: 'workspace' }]}
          />
        </Show>
        <Show when={panelOpen()}>
          <EnvironmentPanel
            id={panelId}
            environment={props.workspace.environment}
            failedSteps={failures()}
            refreshing={props.refreshing}
            onRefresh={() => props.onRefresh()}
            onClose={closePanel}
          />
        </Show>
      </div>
    </div>
  );
}
