// The environments a workspace has run with, newest first, like commits of its environment: what
// each changed against the one before, at which commit, and a one-step rollback to any of them.
import { createResource, createSignal, For, Show } from 'solid-js';
import { listVersions, rollbackWorkspace } from '../api/client';
import { shortHash } from '../lib/environment';
import { errorMessage } from '../lib/error-message';
import { StatusIcon } from './status-icon';

export function EnvironmentVersions(props: {
  workspaceId: string;
  currentHash: string | null;
  canRollback: boolean;
}) {
  // Refetched whenever the workspace's environment changes (a switch or a rollback finished).
  const [versions] = createResource(
    () => ({ id: props.workspaceId, hash: props.currentHash }),
    ({ id }) => listVersions(id),
  );
  const [problem, setProblem] = createSignal<string | null>(null);
  const [busy, setBusy] = createSignal<string | null>(null);

  const rollback = async (versionId: string) => {
    setBusy(versionId);
    setProblem(null);
    try {
      await rollbackWorkspace(props.workspaceId, versionId);
    } catch (error) {
      setProblem(errorMessage(error));
    } finally {
      setBusy(null);
    }
  };

  return (
    <section class="env-section" aria-labelledby="env-versions-title" data-testid="environment-versions">
      <h3 id="env-versions-title">Versions</h3>
      <Show when={versions.error}>
        <p class="muted">Could not load the versions: {errorMessage(versions.error)}</p>
      </Show>
      <Show when={problem()}>
        {(message) => (
          <p class="muted" role="alert">
            {message()}
          </p>
        )}
      </Show>
      <ul class="env-list">
        <For each={versions() ?? []}>
          {(version) => {
            const current = () => version.hash === props.currentHash;
            return (
              <li class="env-item" data-testid="version-row" data-current={current()}>
                <div class="env-item-head">
                  <StatusIcon shape={current() ? 'running' : 'stopped'} />
                  <span class="env-item-name">{version.changes.summary}</span>
                  <Show when={current()}>
                    <span class="env-item-status" data-tone="running">
                      Current
                    </span>
                  </Show>
                </div>
                <p class="env-install-meta">
                  <span>{version.message}</span>
                  <span aria-hidden="true"> · </span>
                  <code title={version.commit}>{version.commit.slice(0, 7)}</code>
                  <span aria-hidden="true"> · </span>
                  <code title={version.hash}>{shortHash(version.hash)}</code>
                </p>
                <Show when={!current() && props.canRollback}>
                  <button
                    type="button"
                    class="button button-small"
                    disabled={busy() !== null}
                    onClick={() => void rollback(version.id)}
                    data-testid="rollback"
                  >
                    {busy() === version.id ? 'Rolling back…' : 'Roll back to this'}
                  </button>
                </Show>
              </li>
            );
          }}
        </For>
      </ul>
    </section>
  );
}
