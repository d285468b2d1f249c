// The main call to action: a Git URL (and optional ref) in, a workspace out.
import { createSignal, Show } from 'solid-js';

export interface NewWorkspaceInput {
  repoUrl: string;
  ref?: string;
}

export function NewWorkspaceForm(props: { onCreate: (input: NewWorkspaceInput) => Promise<void> }) {
  const [repoUrl, setRepoUrl] = createSignal('');
  const [ref, setRef] = createSignal('');
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
      await props.onCreate(trimmedRef === '' ? { repoUrl: url } : { repoUrl: url, ref: trimmedRef });
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
        <button
          type="submit"
          class="button button-primary create-button"
          data-testid="create"
          disabled={submitting()}
        >
          {submitting() ? 'Creating…' : 'Create'}
        </button>
      </div>
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
