// A hidden settings dialog (Ctrl+Shift+S, or #settings in the address): the backend URL the UI
// talks to, kept in localStorage. Empty means the server that served the page.
import { createSignal, onCleanup, onMount, Show } from 'solid-js';
import { loadBackendUrl, saveBackendUrl } from '../lib/backend-url';

export function SettingsModal() {
  let dialog: HTMLDialogElement | undefined;
  const [value, setValue] = createSignal(loadBackendUrl() ?? '');
  const [problem, setProblem] = createSignal<string | null>(null);

  const open = () => {
    setValue(loadBackendUrl() ?? '');
    setProblem(null);
    if (dialog && !dialog.open) dialog.showModal();
  };
  const onKey = (event: KeyboardEvent) => {
    if (event.ctrlKey && event.shiftKey && event.key.toLowerCase() === 's') {
      event.preventDefault();
      open();
    }
  };
  onMount(() => {
    window.addEventListener('keydown', onKey);
    if (window.location.hash === '#settings') open();
  });
  onCleanup(() => window.removeEventListener('keydown', onKey));

  const save = (event: SubmitEvent) => {
    event.preventDefault();
    try {
      saveBackendUrl(value().trim() === '' ? undefined : value());
      dialog?.close();
      window.location.reload();
    } catch (error) {
      setProblem(error instanceof Error ? error.message : 'Not a URL');
    }
  };

  return (
    <dialog class="settings-modal" ref={dialog} data-testid="settings-modal" aria-labelledby="settings-title">
      <form onSubmit={save} class="field">
        <h2 id="settings-title">Settings</h2>
        <label for="backend-url">Backend URL</label>
        <input
          id="backend-url"
          placeholder={window.location.origin}
          value={value()}
          onInput={(e) => setValue(e.currentTarget.value)}
          aria-invalid={problem() ? 'true' : undefined}
          data-testid="backend-url"
        />
        <Show when={problem()}>{(message) => <p class="field-error">{message()}</p>}</Show>
        <p class="muted">Empty: this server. The backend must allow this page's origin.</p>
        <div class="settings-actions">
          <button type="button" class="button" onClick={() => dialog?.close()}>
            Close
          </button>
          <button type="submit" class="button button-primary" data-testid="settings-save">
            Save and reload
          </button>
        </div>
      </form>
    </dialog>
  );
}
