// Branch a workspace like code: a new workspace from this one's files (uncommitted work included),
// at the same commit or moved to another branch, tag or commit; its environment is built as a
// child of this one's. The new workspace opens with its progress.
import { createEffect, createSignal, Show } from 'solid-js';
import { branchWorkspace } from '../api/client';
import type { Workspace } from '../api/types';
import { errorMessage } from '../lib/error-message';
import { useRouter } from '../lib/router';

export function BranchDialog(props: { open: boolean; workspace: Workspace; onClose: () => void }) {
  let dialog!: HTMLDialogElement;
  const router = useRouter();
  const [ref, setRef] = createSignal('');
  const [error, setError] = createSignal<string | null>(null);
  const [busy, setBusy] = createSignal(false);

  createEffect(() => {
    if (props.open && !dialog.open) {
      setRef('');
      setError(null);
      dialog.showModal();
    }
    if (!props.open && dialog.open) dialog.close();
  });

  const submit = async () => {
    setBusy(true);
    setError(null);
    try {
      const branch = await branchWorkspace(props.workspace.id, ref().trim() || undefined);
      props.onClose();
      router.navigate(`/w/${branch.id}`);
    } catch (caught) {
      setError(errorMessage(caught));
    } finally {
      setBusy(false);
    }
  };

  return (
    <dialog
      ref={dialog}
      class="dialog"
      aria-labelledby="branch-title"
      data-testid="branch-dialog"
      onClose={() => props.open && props.onClose()}
    >
      <form
        method="dialog"
        onSubmit={(event) => {
          event.preventDefault();
          void submit();
        }}
      >
        <h2 id="branch-title">Branch {props.workspace.name}</h2>
        <div class="dialog-body">
          <p>
            A new workspace starts from this one's files, uncommitted work included; this one is not touched.
          </p>
          <div class="field">
            <label for="branch-ref">At branch, tag or commit (empty: where this one is)</label>
            <input
              id="branch-ref"
              type="text"
              value={ref()}
              onInput={(event) => setRef(event.currentTarget.value)}
              placeholder={props.workspace.branch ?? props.workspace.commit?.slice(0, 12) ?? 'main'}
              spellcheck={false}
              autocomplete="off"
              data-testid="branch-ref"
            />
          </div>
          <Show when={error()}>
            {(message) => (
              <p class="switch-error" role="alert" data-testid="branch-error">
                {message()}
              </p>
            )}
          </Show>
        </div>
        <div class="dialog-actions">
          <button type="button" class="button" onClick={() => props.onClose()}>
            Cancel
          </button>
          <button type="submit" class="button button-primary" disabled={busy()} data-testid="branch-submit">
            {busy() ? 'Branching…' : 'Create branch'}
          </button>
        </div>
      </form>
    </dialog>
  );
}
