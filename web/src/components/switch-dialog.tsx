// Switch a running workspace to another branch, tag or commit: pick one the repository has (or
// type any commit id), say what happens to uncommitted work, and watch the switch as progress.

import { UNCOMMITTED_CHOICES, type UncommittedPolicy } from '@wire/switching';
import { createEffect, createResource, createSignal, For, type JSX, Show } from 'solid-js';
import { ApiError, listRefs, switchWorkspace } from '../api/client';
import type { Workspace } from '../api/types';
import { errorMessage } from '../lib/error-message';
import { formatAbsoluteTime, formatRelativeTime } from '../lib/format';
import { isBotBranch, orderBranches, searchTags } from '../lib/ref-order';

const policies = (['refuse', 'stash', 'carry'] as const).map((value) => ({
  value,
  ...UNCOMMITTED_CHOICES[value],
}));

function RefGroup(props: { title: string; children: JSX.Element }) {
  return (
    <fieldset class="ref-group">
      <legend>{props.title}</legend>
      <div class="ref-options">{props.children}</div>
    </fieldset>
  );
}

export function SwitchDialog(props: { open: boolean; workspace: Workspace; onClose: () => void }) {
  let dialog!: HTMLDialogElement;
  const [ref, setRef] = createSignal('');
  const [tagQuery, setTagQuery] = createSignal('');
  const [policy, setPolicy] = createSignal<UncommittedPolicy>('refuse');
  const [error, setError] = createSignal<{ message: string; detail?: string; code?: string } | null>(null);
  const [busy, setBusy] = createSignal(false);
  const [refs] = createResource(
    () => (props.open ? props.workspace.id : undefined),
    (id) => listRefs(id),
  );

  createEffect(() => {
    if (props.open && !dialog.open) {
      setError(null);
      setRef('');
      setTagQuery('');
      dialog.showModal();
    }
    if (!props.open && dialog.open) dialog.close();
  });

  const submit = async (jobs: 'refuse' | 'cancel' = 'refuse') => {
    const wanted = ref().trim();
    if (wanted === '') {
      setError({ message: 'Choose a branch, tag or commit, or type one.' });
      return;
    }
    setBusy(true);
    setError(null);
    try {
      await switchWorkspace(props.workspace.id, { ref: wanted, uncommitted: policy(), jobs });
      props.onClose();
    } catch (caught) {
      setError(
        caught instanceof ApiError
          ? {
              message: caught.message,
              code: caught.code,
              ...(caught.detail ? { detail: caught.detail } : {}),
            }
          : { message: errorMessage(caught) },
      );
    } finally {
      setBusy(false);
    }
  };

  const option = (value: string, label: JSX.Element, testId: string) => (
    <button
      type="button"
      class="ref-option"
      aria-pressed={ref() === value}
      onClick={() => setRef(value)}
      data-testid={testId}
    >
      {label}
    </button>
  );

  return (
    <dialog
      ref={dialog}
      class="dialog switch-dialog"
      aria-labelledby="switch-title"
      data-testid="switch-dialog"
      onClose={() => props.open && props.onClose()}
    >
      <form
        method="dialog"
        onSubmit={(event) => {
          event.preventDefault();
          void submit();
        }}
      >
        <h2 id="switch-title">Switch {props.workspace.name}</h2>
        <div class="dialog-body">
          <p class="muted">
            Now on{' '}
            <code>
              {props.workspace.branch ?? 'detached HEAD'} @ {props.workspace.commit?.slice(0, 7) ?? '?'}
            </code>
            . The checkout moves in place; the environment follows.
          </p>
          <div class="field">
            <label for="switch-ref">Branch, tag or commit</label>
            <input
              id="switch-ref"
              type="text"
              value={ref()}
              onInput={(event) => setRef(event.currentTarget.value)}
              placeholder="main, v1.2.0 or a commit id"
              spellcheck={false}
              autocomplete="off"
              data-testid="switch-ref"
            />
          </div>
          <Show when={refs.loading}>
            <p class="muted loading">Reading the repository…</p>
          </Show>
          <Show when={refs.error}>
            <p class="muted">Could not list the repository's refs: {errorMessage(refs.error)}</p>
          </Show>
          <Show when={refs()}>
            {(listing) => (
              <div class="ref-groups">
                <Show when={listing().branches.length > 0}>
                  <RefGroup title="Branches">
                    <For each={orderBranches(listing().branches)}>
                      {(b) =>
                        option(
                          b.name,
                          <>
                            <span>{b.name}</span>
                            <Show when={isBotBranch(b.name)}>
                              <span class="muted"> · bot</span>
                            </Show>{' '}
                            <time class="muted" datetime={b.date} title={formatAbsoluteTime(b.date)}>
                              {formatRelativeTime(b.date)}
                            </time>
                          </>,
                          `ref-branch-${b.name}`,
                        )
                      }
                    </For>
                  </RefGroup>
                </Show>
                <Show when={listing().tags.length > 0}>
                  <RefGroup title="Tags">
                    <input
                      type="search"
                      class="ref-search"
                      value={tagQuery()}
                      onInput={(event) => setTagQuery(event.currentTarget.value)}
                      placeholder={`Search ${listing().tags.length} tags`}
                      aria-label="Search tags"
                      spellcheck={false}
                      autocomplete="off"
                      data-testid="switch-tag-search"
                    />
                    {(() => {
                      const found = () => searchTags(listing().tags, tagQuery());
                      return (
                        <>
                          <For each={found().shown}>
                            {(t) => option(t.name, <span>{t.name}</span>, `ref-tag-${t.name}`)}
                          </For>
                          <p class="muted ref-count" data-testid="switch-tag-count">
                            {found().matched === 0
                              ? 'No tag matches.'
                              : found().matched > found().shown.length
                                ? `${found().shown.length} newest of ${found().matched}: type to narrow.`
                                : ''}
                          </p>
                        </>
                      );
                    })()}
                  </RefGroup>
                </Show>
                <Show when={listing().commits.length > 0}>
                  <RefGroup title="Recent commits">
                    <For each={listing().commits}>
                      {(c) =>
                        option(
                          c.commit,
                          <>
                            <code>{c.commit.slice(0, 7)}</code> <span>{c.subject}</span>
                          </>,
                          `ref-commit-${c.commit.slice(0, 7)}`,
                        )
                      }
                    </For>
                  </RefGroup>
                </Show>
              </div>
            )}
          </Show>
          <fieldset class="policy-group">
            <legend>Uncommitted changes</legend>
            <For each={policies}>
              {(p) => (
                <label class="policy-option">
                  <input
                    type="radio"
                    name="uncommitted"
                    value={p.value}
                    checked={policy() === p.value}
                    onChange={() => setPolicy(p.value)}
                    data-testid={`uncommitted-${p.value}`}
                  />
                  <span>
                    <strong>{p.label}</strong> <span class="muted">{p.hint}</span>
                  </span>
                </label>
              )}
            </For>
          </fieldset>
          <Show when={error()}>
            {(problem) => (
              <div class="switch-error" role="alert" data-testid="switch-error">
                <p>{problem().message}</p>
                <Show when={problem().detail}>{(detail) => <pre>{detail()}</pre>}</Show>
                <Show when={problem().code === 'JOBS_RUNNING'}>
                  <button
                    type="button"
                    class="button button-small button-danger"
                    disabled={busy()}
                    onClick={() => void submit('cancel')}
                    data-testid="switch-cancel-jobs"
                  >
                    Cancel the jobs and switch
                  </button>
                </Show>
              </div>
            )}
          </Show>
        </div>
        <div class="dialog-actions">
          <button type="button" class="button" onClick={() => props.onClose()}>
            Cancel
          </button>
          <button type="submit" class="button button-primary" disabled={busy()} data-testid="switch-submit">
            {busy() ? 'Switching…' : 'Switch'}
          </button>
        </div>
      </form>
    </dialog>
  );
}
