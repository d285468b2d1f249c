// Where a job starts: a target, a way to run (pipe or terminal, for workspaces), a command, and
// the repository's own targets and scripts as one-click jobs. Everything waits while a job runs.

import type { ExecuteCommandInput, SuggestedJob } from '@wire/jobs';
import { createSignal, For, Show } from 'solid-js';

export interface JobTarget {
  id: string;
  label: string;
  kind: 'workspace' | 'ssh';
}

export function CommandPanel(props: {
  targets: readonly JobTarget[];
  suggestions: readonly SuggestedJob[];
  running: boolean;
  onRun(input: ExecuteCommandInput): void;
  onCancel(): void;
}) {
  const [command, setCommand] = createSignal('');
  const [targetId, setTargetId] = createSignal<string | undefined>();
  const [terminal, setTerminal] = createSignal(false);
  const target = () => props.targets.find((t) => t.id === targetId()) ?? props.targets[0];

  const run = (text: string) => {
    const t = target();
    if (!t || text.trim() === '' || props.running) return;
    props.onRun({
      command: text,
      target: t.id,
      strategy: t.kind === 'ssh' ? 'ssh' : terminal() ? 'terminal' : 'stream',
    });
  };

  return (
    <form
      class="command-panel"
      data-testid="command-panel"
      onSubmit={(event) => {
        event.preventDefault();
        run(command());
      }}
    >
      <div class="command-row">
        <Show when={props.targets.length > 1}>
          <label class="visually-hidden" for="job-target">
            Run on
          </label>
          <select
            id="job-target"
            class="command-target"
            value={target()?.id ?? ''}
            onChange={(e) => setTargetId(e.currentTarget.value)}
            disabled={props.running}
            data-testid="job-target"
          >
            <For each={props.targets}>
              {(t) => (
                <option value={t.id}>
                  {t.kind === 'ssh' ? 'SSH: ' : ''}
                  {t.label}
                </option>
              )}
            </For>
          </select>
        </Show>
        <label class="visually-hidden" for="job-command">
          Command
        </label>
        <input
          id="job-command"
          class="command-input"
          placeholder="make test"
          autocomplete="off"
          spellcheck={false}
          value={command()}
          onInput={(e) => setCommand(e.currentTarget.value)}
          disabled={props.running}
          data-testid="job-command"
        />
        <Show when={target()?.kind === 'workspace'}>
          <label class="log-toggle" title="Run in a terminal (colours, progress bars); stderr joins stdout">
            <input
              type="checkbox"
              checked={terminal()}
              onChange={(e) => setTerminal(e.currentTarget.checked)}
              disabled={props.running}
              data-testid="job-pty"
            />
            PTY
          </label>
        </Show>
        <button
          type="submit"
          class="button button-primary"
          disabled={props.running || command().trim() === '' || !target()}
          data-testid="job-run"
        >
          Run
        </button>
        <Show when={props.running}>
          <button
            type="button"
            class="button button-danger"
            onClick={() => props.onCancel()}
            data-testid="job-cancel"
          >
            Cancel
          </button>
        </Show>
      </div>
      <Show when={props.suggestions.length > 0}>
        <fieldset class="command-suggestions">
          <legend class="visually-hidden">Jobs from the repository</legend>
          <For each={props.suggestions}>
            {(job) => (
              <button
                type="button"
                class="button button-small"
                disabled={props.running}
                title={job.command}
                onClick={() => run(job.command)}
                data-testid="suggested-job"
              >
                {job.kind === 'make' ? 'make ' : ''}
                {job.name}
              </button>
            )}
          </For>
        </fieldset>
      </Show>
      <Show when={props.targets.length === 0}>
        <p class="muted">No target to run on: start the workspace, or add an SSH host.</p>
      </Show>
    </form>
  );
}
