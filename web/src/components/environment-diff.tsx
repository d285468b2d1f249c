// What changed from one environment to another, fact by fact: added, removed or changed, each
// marked by a sign and a word as well as its colour.
import { createResource, For, Show } from 'solid-js';
import { diffEnvironments } from '../api/client';
import type { EnvironmentChange } from '../api/types';
import { shortHash } from '../lib/environment';
import { errorMessage } from '../lib/error-message';

const marks: Record<EnvironmentChange['change'], string> = { added: '+', removed: '−', changed: '~' };

function describe(change: EnvironmentChange): string {
  if (change.change === 'changed') return `${change.from ?? '?'} → ${change.to ?? '?'}`;
  const value = change.change === 'added' ? change.to : change.from;
  return `${change.change}${value ? ` (${value})` : ''}`;
}

export function EnvironmentDiff(props: { from: string; to: string; onClose: () => void }) {
  const [diff] = createResource(
    () => ({ from: props.from, to: props.to }),
    ({ from, to }) => diffEnvironments(from, to),
  );
  return (
    <div class="env-diff" data-testid="environment-diff" aria-live="polite">
      <div class="env-diff-head">
        <strong>Compare</strong>
        <Show when={diff()}>
          {(d) => (
            <span class="muted">
              <code>{shortHash(d().from.hash)}</code> → <code>{shortHash(d().to.hash)}</code>
            </span>
          )}
        </Show>
        <button type="button" class="button button-small" onClick={() => props.onClose()}>
          Done
        </button>
      </div>
      <Show when={diff.error}>
        <p class="muted">Could not compare them: {errorMessage(diff.error)}</p>
      </Show>
      <Show when={diff()}>
        {(d) => (
          <Show
            when={d().changes.length > 0}
            fallback={<p class="muted">The two environments provide the same tools and services.</p>}
          >
            <ul class="env-diff-list">
              <For each={d().changes}>
                {(change) => (
                  <li class="env-diff-item" data-change={change.change} data-testid="diff-change">
                    <span class="env-diff-mark" aria-hidden="true">
                      {marks[change.change]}
                    </span>
                    <span class="env-diff-kind">{change.kind}</span>
                    <span class="env-diff-name">{change.name}</span>
                    <span class="muted">{describe(change)}</span>
                  </li>
                )}
              </For>
            </ul>
          </Show>
        )}
      </Show>
    </div>
  );
}
