// What needs attention on a workspace card: a failed install or service, a missing tool and how
// to get it, why Nix was not used. The first few are shown; the Environment panel has them all.
import { For, Show } from 'solid-js';
import { StatusIcon } from './status-icon';

const shown = 3;

export function WorkspaceNotes(props: { notes: readonly string[] }) {
  return (
    <Show when={props.notes.length > 0}>
      <ul class="workspace-notes" data-testid="workspace-notes">
        <For each={props.notes.slice(0, shown)}>
          {(note) => (
            <li class="workspace-note" data-testid="workspace-note">
              <StatusIcon shape="warning" />
              <span>{note}</span>
            </li>
          )}
        </For>
        <Show when={props.notes.length > shown}>
          <li class="workspace-note muted">{`and ${props.notes.length - shown} more in the Environment panel`}</li>
        </Show>
      </ul>
    </Show>
  );
}
