// The environment of a workspace, side by side with the terminal: what it asked for and got,
// what detection noticed, its services and installs, and the steps that failed on the way.
import { createSignal, For, onCleanup, onMount, Show } from 'solid-js';
import type { Environment, IdeStatus, Step } from '../api/types';
import { copyText } from '../lib/clipboard';
import {
  describeProvided,
  describeServiceVersion,
  describeWanted,
  diagnosticLocation,
  presentInstallResult,
  presentReportStatus,
  presentServiceStatus,
  presentSeverity,
  providerName,
  reportKindLabel,
  shortHash,
} from '../lib/environment';
import { formatAbsoluteTime, formatDuration } from '../lib/format';
import { EnvironmentVersions } from './environment-versions';
import { ReproducibleBadge } from './reproducible-badge';
import { StatusIcon } from './status-icon';
import { StepLog } from './step-log';
import { WorkspaceLineageSection } from './workspace-lineage';

function HashField(props: { hash: string }) {
  const [copied, setCopied] = createSignal<'yes' | 'no' | null>(null);
  let timer: number | undefined;
  onCleanup(() => window.clearTimeout(timer));
  const copy = async () => {
    setCopied((await copyText(props.hash)) ? 'yes' : 'no');
    window.clearTimeout(timer);
    timer = window.setTimeout(() => setCopied(null), 2000);
  };
  return (
    <div class="env-hash">
      <span class="env-hash-label">Hash</span>
      <code title={props.hash} data-testid="environment-hash" data-hash={props.hash}>
        {shortHash(props.hash)}
      </code>
      <button
        type="button"
        class="button button-quiet button-small"
        onClick={() => void copy()}
        aria-label="Copy the full environment hash"
        data-testid="copy-hash"
      >
        Copy
      </button>
      <span class="env-copied" role="status">
        {copied() === 'yes' ? 'Copied' : copied() === 'no' ? 'Could not copy; select the hash instead' : ''}
      </span>
    </div>
  );
}

export function EnvironmentPanel(props: {
  id: string;
  workspaceId: string;
  canRollback: boolean;
  environment: Environment | null;
  failedSteps: readonly Step[];
  /** The workspace's VS Code, while it runs. */
  ide?: IdeStatus | null;
  refreshing: boolean;
  onRefresh: () => void;
  onClose: () => void;
}) {
  let heading!: HTMLHeadingElement;
  // Opening the panel moves focus into it; Escape or Close hands focus back to the toggle.
  onMount(() => heading.focus());

  return (
    <aside
      class="environment-panel"
      id={props.id}
      aria-labelledby={`${props.id}-title`}
      data-testid="environment-panel"
      onKeyDown={(event) => {
        if (event.key === 'Escape') {
          event.stopPropagation();
          props.onClose();
        }
      }}
    >
      <header class="env-header">
        <h2 id={`${props.id}-title`} tabindex="-1" ref={heading}>
          Environment
        </h2>
        <button
          type="button"
          class="button button-quiet button-small"
          onClick={() => props.onRefresh()}
          disabled={props.refreshing}
          data-testid="environment-refresh"
        >
          {props.refreshing ? 'Refreshing…' : 'Refresh'}
        </button>
        <button
          type="button"
          class="button button-quiet button-small"
          onClick={() => props.onClose()}
          aria-label="Close the environment panel"
          data-testid="environment-close"
        >
          Close
        </button>
      </header>

      <div class="env-body">
        <Show
          when={props.environment}
          fallback={<p class="muted">No environment has been recorded for this workspace.</p>}
        >
          {(env) => (
            <section class="env-section env-overview" aria-label="Overview">
              <ReproducibleBadge environment={env()} />
              <p class="env-overview-text">
                Provided by <strong>{providerName(env().provider)}</strong>.{' '}
                {env().cached
                  ? 'An earlier build of the same environment was reused.'
                  : 'Built for this workspace.'}
              </p>
              <HashField hash={env().hash} />
              <Show when={env().fallback}>
                {(fallback) => (
                  <p class="env-message" data-testid="environment-fallback" data-cause={fallback().cause}>
                    {fallback().message}
                  </p>
                )}
              </Show>
            </section>
          )}
        </Show>

        <Show when={props.ide}>
          {(ide) => (
            <section class="env-section" aria-labelledby={`${props.id}-ide`} data-testid="ide-status-row">
              <h3 id={`${props.id}-ide`}>VS Code</h3>
              <p class="env-install-meta">
                <span>{ide().status}</span>
                <Show when={ide().startedAt}>
                  {(at) => (
                    <>
                      <span aria-hidden="true"> · </span>
                      <span>
                        since <time dateTime={at()}>{formatAbsoluteTime(at())}</time>
                      </span>
                    </>
                  )}
                </Show>
                <span aria-hidden="true"> · </span>
                <span>{ide().restarts === 1 ? '1 restart' : `${ide().restarts} restarts`}</span>
              </p>
              <Show when={ide().detail}>{(detail) => <p class="muted">{detail()}</p>}</Show>
            </section>
          )}
        </Show>

        <Show when={props.failedSteps.length > 0}>
          <section class="env-section" aria-labelledby={`${props.id}-failed`}>
            <h3 id={`${props.id}-failed`}>Failed steps</h3>
            <ul class="env-list">
              <For each={props.failedSteps}>
                {(step) => (
                  <li class="env-item" data-testid={`environment-step-${step.name}`} data-status="failed">
                    <div class="env-item-head">
                      <StatusIcon shape="warning" />
                      <span class="env-item-name">{step.label}</span>
                      <span class="env-item-status" data-tone="warning">
                        Failed, workspace continues
                      </span>
                    </div>
                    <Show when={step.detail}>{(detail) => <p class="env-message">{detail()}</p>}</Show>
                    <StepLog lines={step.log} stepName={step.name} open />
                  </li>
                )}
              </For>
            </ul>
          </section>
        </Show>

        <Show when={props.environment}>
          {(env) => (
            <>
              <section class="env-section" aria-labelledby={`${props.id}-tools`}>
                <h3 id={`${props.id}-tools`}>Tools</h3>
                <Show
                  when={env().report.length > 0}
                  fallback={
                    <p class="muted env-empty">No toolchains, services or package managers asked for.</p>
                  }
                >
                  <ul class="env-list">
                    <For each={env().report}>
                      {(entry) => {
                        const status = () => presentReportStatus(entry.status);
                        return (
                          <li class="env-item" data-testid="report-row" data-status={entry.status}>
                            <div class="env-item-head">
                              <StatusIcon shape={status().shape} />
                              <span class="env-item-name">{entry.name}</span>
                              <span class="env-kind">{reportKindLabel[entry.kind] ?? entry.kind}</span>
                              <span class="env-item-status" data-tone={status().shape}>
                                {status().label}
                              </span>
                            </div>
                            <dl class="env-facts">
                              <dt>Wanted</dt>
                              <dd class="mono">{describeWanted(entry)}</dd>
                              <dt>Provided</dt>
                              <dd class="mono">{describeProvided(entry)}</dd>
                              <Show when={entry.source}>
                                {(source) => (
                                  <>
                                    <dt>Source</dt>
                                    <dd class="mono">{source()}</dd>
                                  </>
                                )}
                              </Show>
                            </dl>
                            <Show when={entry.status !== 'ok' && entry.message}>
                              <p class="env-message">{entry.message}</p>
                            </Show>
                            <Show when={entry.hint}>
                              {(hint) => (
                                <p class="env-message" data-testid="report-hint">
                                  {hint()}
                                </p>
                              )}
                            </Show>
                          </li>
                        );
                      }}
                    </For>
                  </ul>
                </Show>
              </section>

              <Show when={env().diagnostics.length > 0}>
                <section class="env-section" aria-labelledby={`${props.id}-diagnostics`}>
                  <h3 id={`${props.id}-diagnostics`}>Detection notes</h3>
                  <ul class="env-list">
                    <For each={env().diagnostics}>
                      {(diagnostic) => {
                        const severity = () => presentSeverity(diagnostic.severity);
                        return (
                          <li class="env-item" data-testid="diagnostic" data-severity={diagnostic.severity}>
                            <div class="env-item-head">
                              <StatusIcon shape={severity().shape} />
                              <span class="env-item-status env-severity" data-tone={severity().shape}>
                                {severity().label}
                              </span>
                              <Show when={diagnosticLocation(diagnostic)}>
                                {(location) => <span class="env-location mono">{location()}</span>}
                              </Show>
                            </div>
                            <p class="env-message" title={diagnostic.code}>
                              {diagnostic.message}
                            </p>
                          </li>
                        );
                      }}
                    </For>
                  </ul>
                </section>
              </Show>

              <Show when={env().services.length > 0}>
                <section class="env-section" aria-labelledby={`${props.id}-services`}>
                  <h3 id={`${props.id}-services`}>Services</h3>
                  <ul class="env-list">
                    <For each={env().services}>
                      {(service) => {
                        const status = () => presentServiceStatus(service.status);
                        return (
                          <li
                            class="env-item"
                            data-testid="service-row"
                            data-status={service.status}
                            data-version-mismatch={String(service.versionMismatch)}
                          >
                            <div class="env-item-head">
                              <StatusIcon shape={status().shape} />
                              <span class="env-item-name">{service.name}</span>
                              <span class="env-item-status" data-tone={status().shape}>
                                {status().label}
                              </span>
                            </div>
                            <dl class="env-facts">
                              <Show when={describeServiceVersion(service)}>
                                {(version) => (
                                  <>
                                    <dt>Version</dt>
                                    <dd class="mono">{version()}</dd>
                                  </>
                                )}
                              </Show>
                              <Show when={service.port !== null}>
                                <dt>Port</dt>
                                <dd class="mono">{service.port}</dd>
                              </Show>
                              <Show when={service.restarts > 0}>
                                <dt>Restarts</dt>
                                <dd>{service.restarts}</dd>
                              </Show>
                            </dl>
                            <Show when={service.versionMismatch}>
                              <p class="env-message env-mismatch">
                                <StatusIcon shape="warning" />
                                Runs a different version than the project asks for.
                              </p>
                            </Show>
                            <Show when={service.detail}>
                              {(detail) => <p class="env-message">{detail()}</p>}
                            </Show>
                          </li>
                        );
                      }}
                    </For>
                  </ul>
                </section>
              </Show>

              <Show when={env().installs.length > 0}>
                <section class="env-section" aria-labelledby={`${props.id}-installs`}>
                  <h3 id={`${props.id}-installs`}>Dependency installs</h3>
                  <ul class="env-list">
                    <For each={env().installs}>
                      {(install) => {
                        const result = () => presentInstallResult(install.result);
                        return (
                          <li class="env-item" data-testid="install-row" data-result={install.result}>
                            <div class="env-item-head">
                              <StatusIcon shape={result().shape} />
                              <code class="env-item-name env-command" title={install.key}>
                                {install.label}
                              </code>
                            </div>
                            <p class="env-install-meta">
                              <span>{result().label}</span>
                              <span aria-hidden="true"> · </span>
                              <span class="step-duration">{formatDuration(install.durationMs)}</span>
                            </p>
                          </li>
                        );
                      }}
                    </For>
                  </ul>
                </section>
              </Show>
            </>
          )}
        </Show>
        <EnvironmentVersions
          workspaceId={props.workspaceId}
          currentHash={props.environment?.hash ?? null}
          canRollback={props.canRollback}
        />
        <WorkspaceLineageSection workspaceId={props.workspaceId} headingId={`${props.id}-lineage`} />
      </div>
    </aside>
  );
}
