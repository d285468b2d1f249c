// The main call to action: a Git URL (and optional ref) in, a workspace out. Where the server has
// more than one sandbox driver, the isolation can be chosen too (its default preselected).
import { createResource, createSignal, For, Show } from 'solid-js';
import { listSandboxDrivers, type NewWorkspace } from '../api/client';

export function NewWorkspaceForm(props: { onCreate: (input: NewWorkspace) => Promise<void> }) {
  const [repoUrl, setRepoUrl] = createSignal('');
  const [ref, setRef] = createSignal('');
  // Without the list (an older server, a failed request) the form still creates, on the default.
  const [sandboxes] = createResource(() => listSandboxDrivers().catch(() => undefined));
  const [sandbox, setSandbox] = createSignal<string | null>(null);
  const chosenSandbox = () => sandbox() ?? sandboxes()?.default ?? null;
  const chosenDescription = () =>
    sandboxes()?.drivers.find((driver) => driver.name === chosenSandbox())?.description ?? '';
  const [submitting, setSubmitting] = createSignal(false);
  const [error, setError] = createSignal<string | null>(null);

  const submit = async (event: SubmitEvent) => {
    event.preventDefault();
    const url = repoUrl().trim();
    if (url === '') {
      setError('Enter a Git URL (https://…) of the repository.');
      return;
    }
    setSubmitting(true);
    setError(null);
    try {
      const trimmedRef = ref().trim();
      const picked = sandbox();
      await props.onCreate({
        repoUrl: url,
        ...(trimmedRef === '' ? {} : { ref: trimmedRef }),
        ...(picked && picked !== sandboxes()?.default ? { sandbox: picked } : {}),
      });
    } catch (failure) {
      setError(failure instanceof Error ? failure.message : 'Could not create the workspace.');
    } finally {
      setSubmitting(false);
    }
  };

  return (
    <form class="new-workspace" onSubmit={submit} aria-labelledby="new-workspace-title" novalidate>
      <h1 id="new-workspace-title">New workspace</h1>
      <p class="lede">
        Paste a Git repository. NixSpace fetches it, works out what it needs and opens a terminal.
      </p>
      <div class="field-row">
        <div class="field field-grow">
          <label for="repo-url">Git URL</label>
          <input
            id="repo-url"
            name="repoUrl"
            type="text"
            inputmode="url"
            autocomplete="off"
            autocapitalize="off"
            spellcheck={false}
            placeholder="https://github.com/owner/repo"
            data-testid="repo-url"
            value={repoUrl()}
            onInput={(event) => {
              setRepoUrl(event.currentTarget.value);
              if (error()) setError(null);
            }}
            aria-invalid={error() ? 'true' : undefined}
            aria-describedby={error() ? 'repo-url-error' : undefined}
            autofocus
            required
          />
        </div>
        <div class="field field-ref">
          <label for="repo-ref">
            Branch, tag or commit <span class="optional">(optional)</span>
          </label>
          <input
            id="repo-ref"
            name="ref"
            type="text"
            autocomplete="off"
            autocapitalize="off"
            spellcheck={false}
            placeholder="default branch"
            data-testid="repo-ref"
            value={ref()}
            onInput={(event) => setRef(event.currentTarget.value)}
          />
        </div>
        <Show when={(sandboxes()?.drivers.length ?? 0) > 1}>
          <div class="field field-sandbox">
            <label for="sandbox">Isolation</label>
            <select
              id="sandbox"
              name="sandbox"
              data-testid="sandbox"
              value={chosenSandbox() ?? ''}
              title={chosenDescription()}
              onChange={(event) => setSandbox(event.currentTarget.value)}
            >
              <For each={sandboxes()?.drivers}>
                {(driver) => (
                  <option value={driver.name} title={driver.description}>
                    {driver.name}
                    {driver.name === sandboxes()?.default ? ' (default)' : ''}
                  </option>
                )}
              </For>
            </select>
          </div>
        </Show>
        <button
          type="submit"
          class="button button-primary create-button"
          data-testid="create"
          disabled={submitting()}
        >
          {submitting() ? 'Creating…' : 'Create'}
        </button>
      </div>
      <Show when={(sandboxes()?.drivers.length ?? 0) > 1 && chosenDescription()}>
        <p class="field-hint" data-testid="sandbox-description">
          {chosenSandbox()}: {chosenDescription()}
        </p>
      </Show>
      <Show when={error()}>
        {(message) => (
          <p id="repo-url-error" class="field-error" role="alert" data-testid="create-error">
            {message()}
          </p>
        )}
      </Show>
    </form>
  );
}
