// A running (or stopped) workspace: a slim bar on top, VS Code and the terminal side by side in a
// resizable split (either can be collapsed), and on demand the Environment panel beside them.
import { createSignal, lazy, Show, Suspense } from 'solid-js';
import type { Workspace } from '../api/types';
import { BranchDialog } from '../components/branch-dialog';
import { Callout } from '../components/callout';
import { EnvironmentPanel } from '../components/environment-panel';
import { ExpiryNotice } from '../components/expiry-notice';
import { JobsPanel } from '../components/jobs/jobs-panel';
import { ReproducibleBadge } from '../components/reproducible-badge';
import { ShareDialog } from '../components/share-dialog';
import { SplitView } from '../components/split-view';
import { StatusIcon } from '../components/status-icon';
import { SwitchDialog } from '../components/switch-dialog';
import { IdePane } from '../ide/ide-pane';
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
  /** The time, for the lifetime warning. */
  now: number;
  busy: boolean;
  actionError: string | null;
  refreshing: boolean;
  onStart: () => void;
  onStop: () => void;
  onKeep: () => void;
  onRefresh: () => void;
  onDismissError?: () => void;
}) {
  const running = () => props.workspace.status === 'running';
  const failures = () => continuedFailures(props.workspace);
  const issues = () => failures().length + environmentIssueCount(props.workspace.environment);

  const [panelOpen, setPanelOpen] = createSignal(false);
  const [switching, setSwitching] = createSignal(false);
  const [sharing, setSharing] = createSignal(false);
  const [branching, setBranching] = createSignal(false);
  // A running workspace without an IDE status runs without one (the server has --no-ide).
  const hasIde = () => props.workspace.ide !== null;
  const [showIde, setShowIde] = createSignal(true);
  const [showTerminal, setShowTerminal] = createSignal(true);
  // Collapsing one pane never leaves none: the other comes back.
  const toggleIde = () => {
    if (showIde() && !showTerminal()) setShowTerminal(true);
    setShowIde(!showIde());
  };
  const toggleTerminal = () => {
    if (showTerminal() && !showIde()) setShowIde(true);
    setShowTerminal(!showTerminal());
  };
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
          <Show when={running() && hasIde()}>
            <div class="pane-toggles">
              <button
                type="button"
                class="button button-small"
                aria-pressed={showIde()}
                onClick={toggleIde}
                data-testid="ide-toggle"
              >
                VS Code
              </button>
              <button
                type="button"
                class="button button-small"
                aria-pressed={showTerminal()}
                onClick={toggleTerminal}
                data-testid="terminal-toggle"
              >
                Terminal
              </button>
            </div>
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
          <button
            type="button"
            class="button"
            onClick={() => setBranching(true)}
            aria-haspopup="dialog"
            data-testid="branch-workspace"
          >
            Branch…
          </button>
          <button
            type="button"
            class="button"
            onClick={() => setSharing(true)}
            aria-haspopup="dialog"
            data-testid="share-workspace"
          >
            Share…
          </button>
          <Show when={running()}>
            <button
              type="button"
              class="button"
              onClick={() => setSwitching(true)}
              disabled={props.busy}
              data-testid="switch-workspace"
            >
              Switch…
            </button>
          </Show>
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
      <SwitchDialog open={switching()} workspace={props.workspace} onClose={() => setSwitching(false)} />
      <ShareDialog open={sharing()} workspace={props.workspace} onClose={() => setSharing(false)} />
      <BranchDialog open={branching()} workspace={props.workspace} onClose={() => setBranching(false)} />
      <Show when={props.actionError}>
        {(message) => <Callout tone="error" title={message()} onDismiss={props.onDismissError} />}
      </Show>
      <ExpiryNotice
        workspace={props.workspace}
        now={props.now}
        busy={props.busy}
        onKeep={() => props.onKeep()}
      />
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
      {/* VS Code | terminal, with the Environment panel beside them when open. */}
      <div class="workspace-panes" data-panel-open={panelOpen()}>
        <Show
          when={running()}
          fallback={
            <section class="pane pane-stopped" aria-label="Workspace stopped">
              <Show
                when={props.workspace.status === 'hibernated'}
                fallback={<p class="pane-stopped-title">This workspace is stopped.</p>}
              >
                <p class="pane-stopped-title" data-testid="hibernated-notice">
                  This workspace hibernated: nothing was open in it for a while.
                </p>
              </Show>
              <p>Start it to get VS Code and a terminal again. Your files are kept.</p>
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
          <SplitView
            startLabel="VS Code"
            endLabel="terminal"
            showStart={hasIde() && showIde()}
            showEnd={!hasIde() || showTerminal()}
            start={<IdePane workspaceId={props.workspace.id} ide={props.workspace.ide} />}
            end={
              <Suspense fallback={<section class="terminal-pane" aria-busy="true" />}>
                <TerminalPane workspaceId={props.workspace.id} />
              </Suspense>
            }
          />
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
            workspaceId={props.workspace.id}
            canRollback={running()}
            environment={props.workspace.environment}
            ide={props.workspace.ide}
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
