// The warning that a workspace's lifetime is ending, with Keep: the owner keeps it, and it is no
// longer deleted.
import { Show } from 'solid-js';
import type { Workspace } from '../api/types';
import { expiryMessage, isExpiring } from '../lib/lifetime';
import { Callout } from './callout';

export function ExpiryNotice(props: {
  workspace: Workspace;
  now: number;
  busy: boolean;
  onKeep: () => void;
}) {
  return (
    <Show when={isExpiring(props.workspace, props.now)}>
      <Callout
        tone="warning"
        title={expiryMessage(props.workspace, props.now)}
        testId="expiry-notice"
        actions={
          <button
            type="button"
            class="button button-small"
            onClick={() => props.onKeep()}
            disabled={props.busy}
            data-testid="keep-workspace"
          >
            Keep workspace
          </button>
        }
      >
        <p>Keep it to stop the deletion: it then stays until you delete it.</p>
      </Callout>
    </Show>
  );
}
