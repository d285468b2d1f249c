// Share a workspace by link: choose what the holder may do and for how long, copy the link (shown
// this once), and see or revoke the links that still open it.
import { createEffect, createResource, createSignal, For, Show } from 'solid-js';
import { createShare, listShares, revokeShare } from '../api/client';
import type { CreatedShare, ShareLink, ShareRole, Workspace } from '../api/types';
import { copyText } from '../lib/clipboard';
import { errorMessage } from '../lib/error-message';
import { formatRelativeTime as formatRelative } from '../lib/format';

const expiries: { hours: number | null; label: string }[] = [
  { hours: 1, label: '1 hour' },
  { hours: 24, label: '1 day' },
  { hours: 24 * 7, label: '7 days' },
  { hours: null, label: 'Never' },
];

const roleLabel: Record<ShareRole, string> = { viewer: 'Can view', editor: 'Can edit' };

export function ShareDialog(props: { open: boolean; workspace: Workspace; onClose: () => void }) {
  let dialog!: HTMLDialogElement;
  const [role, setRole] = createSignal<ShareRole>('viewer');
  const [expiry, setExpiry] = createSignal<number | null>(24);
  const [anonymous, setAnonymous] = createSignal(true);
  const [created, setCreated] = createSignal<CreatedShare | null>(null);
  const [copied, setCopied] = createSignal<'yes' | 'no' | null>(null);
  const [error, setError] = createSignal<string | null>(null);
  const [busy, setBusy] = createSignal(false);
  const [links, { refetch }] = createResource(
    () => (props.open ? props.workspace.id : undefined),
    (id) => listShares(id),
  );

  createEffect(() => {
    if (props.open && !dialog.open) {
      setCreated(null);
      setCopied(null);
      setError(null);
      dialog.showModal();
    }
    if (!props.open && dialog.open) dialog.close();
  });

  const create = async () => {
    setBusy(true);
    setError(null);
    setCopied(null);
    try {
      setCreated(
        await createShare(props.workspace.id, {
          role: role(),
          expiresInHours: expiry(),
          anonymous: anonymous(),
        }),
      );
      void refetch();
    } catch (caught) {
      setError(errorMessage(caught));
    } finally {
      setBusy(false);
    }
  };

  const copy = async (url: string) => setCopied((await copyText(url)) ? 'yes' : 'no');

  const revoke = async (link: ShareLink) => {
    setError(null);
    try {
      await revokeShare(link.id);
      if (created()?.id === link.id) setCreated(null);
      void refetch();
    } catch (caught) {
      setError(errorMessage(caught));
    }
  };

  return (
    <dialog
      ref={dialog}
      class="dialog share-dialog"
      aria-labelledby="share-title"
      data-testid="share-dialog"
      onClose={() => props.open && props.onClose()}
    >
      <form
        method="dialog"
        onSubmit={(event) => {
          event.preventDefault();
          void create();
        }}
      >
        <h2 id="share-title">Share {props.workspace.name}</h2>
        <div class="dialog-body">
          <fieldset class="share-options">
            <legend>People with the link</legend>
            <label class="share-choice">
              <input
                type="radio"
                name="share-role"
                checked={role() === 'viewer'}
                onChange={() => setRole('viewer')}
                data-testid="share-role-viewer"
              />
              <span>
                <strong>Can view</strong> — a read-only VS Code and your terminal’s output
              </span>
            </label>
            <label class="share-choice">
              <input
                type="radio"
                name="share-role"
                checked={role() === 'editor'}
                onChange={() => setRole('editor')}
                data-testid="share-role-editor"
              />
              <span>
                <strong>Can edit</strong> — VS Code and terminals of their own, in this workspace
              </span>
            </label>
          </fieldset>
          <div class="share-row">
            <label for="share-expiry">Expires after</label>
            <select
              id="share-expiry"
              class="command-input"
              value={String(expiry())}
              onChange={(event) => {
                const value = event.currentTarget.value;
                setExpiry(value === 'null' ? null : Number(value));
              }}
              data-testid="share-expiry"
            >
              <For each={expiries}>
                {(option) => <option value={String(option.hours)}>{option.label}</option>}
              </For>
            </select>
          </div>
          <label class="share-row share-check">
            <input
              type="checkbox"
              checked={anonymous()}
              onChange={(event) => setAnonymous(event.currentTarget.checked)}
              data-testid="share-anonymous"
            />
            Opens without a NixSpace account
          </label>
          <Show when={created()}>
            {(link) => (
              <div class="share-created" data-testid="share-created">
                <label for="share-url">Link ({roleLabel[link().role].toLowerCase()}) — shown once</label>
                <div class="share-url-row">
                  <input
                    id="share-url"
                    class="command-input"
                    readOnly
                    value={link().url}
                    onFocus={(event) => event.currentTarget.select()}
                    data-testid="share-url"
                  />
                  <button
                    type="button"
                    class="button button-primary"
                    onClick={() => void copy(link().url)}
                    data-testid="share-copy"
                  >
                    Copy link
                  </button>
                </div>
                <p class="muted" role="status">
                  {copied() === 'yes'
                    ? 'Copied to the clipboard.'
                    : copied() === 'no'
                      ? 'The browser did not allow copying: select the link and copy it.'
                      : 'At most 3 people can be in the workspace at once.'}
                </p>
              </div>
            )}
          </Show>
          <Show when={error()}>
            {(message) => (
              <p class="switch-error" role="alert" data-testid="share-error">
                {message()}
              </p>
            )}
          </Show>
          <h3 class="share-list-title">Active links</h3>
          <Show
            when={(links() ?? []).length > 0}
            fallback={<p class="muted">No link opens this workspace.</p>}
          >
            <ul class="share-list" data-testid="share-list">
              <For each={links()}>
                {(link) => (
                  <li class="share-item" data-testid="share-item">
                    <span class="share-item-role">{roleLabel[link.role]}</span>
                    <span class="muted">
                      {link.expiresAt ? `expires ${formatRelative(link.expiresAt)}` : 'never expires'}
                      {link.anonymous ? '' : ' · account needed'}
                      {link.activeUsers > 0 ? ` · ${link.activeUsers} in now` : ''}
                    </span>
                    <button
                      type="button"
                      class="button button-small button-danger"
                      onClick={() => void revoke(link)}
                      data-testid="share-revoke"
                    >
                      Revoke
                    </button>
                  </li>
                )}
              </For>
            </ul>
          </Show>
        </div>
        <div class="dialog-actions">
          <button type="button" class="button" onClick={() => props.onClose()}>
            Close
          </button>
          <button type="submit" class="button button-primary" disabled={busy()} data-testid="share-create">
            {created() ? 'Create another link' : 'Create link'}
          </button>
        </div>
      </form>
    </dialog>
  );
}
