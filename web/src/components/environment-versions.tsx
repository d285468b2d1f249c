// The environments a workspace has run with, newest first, like commits of its environment: what
// each changed against the one before, at which commit, a one-step rollback to any of them, and a
// comparison of any two.
import { createResource, createSignal, For, Show } from 'solid-js';
import { listVersions, rollbackWorkspace } from '../api/client';
import { shortHash } from '../lib/environment';
import { errorMessage } from '../lib/error-message';
import { EnvironmentDiff } from './environment-diff';
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
  // Environment ids picked for comparison, oldest pick first; two make a comparison.
  const [picked, setPicked] = createSignal<string[]>([]);
  const togglePick = (environmentId: string) =>
    setPicked((current) =>
      current.includes(environmentId)
        ? current.filter((id) => id !== environmentId)
        : [...current, environmentId].slice(-2),
    );
  // Compared in history order: the older version first.
  const comparison = () => {
    const ids = picked();
    if (ids.length !== 2) return undefined;
    const order = (versions() ?? []).map((v) => v.environmentId);
    const [a, b] = [...ids].sort((x, y) => order.indexOf(y) - order.indexOf(x));
    return { from: a!, to: b! };
  };

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
      <Show when={comparison()}>
        {(pair) => <EnvironmentDiff from={pair().from} to={pair().to} onClose={() => setPicked([])} />}
      </Show>
      <Show when={picked().length === 1}>
        <p class="muted">Pick a second version to compare with.</p>
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
                <label class="env-compare">
                  <input
                    type="checkbox"
                    checked={picked().includes(version.environmentId)}
                    onChange={() => togglePick(version.environmentId)}
                    data-testid="compare-pick"
                  />
                  Compare
                </label>
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
