// Says when the page has lost the NixSpace server, and when the server came back as a new start:
// the streams, the terminal and VS Code reconnect by themselves, so nothing needs a reload.
import { Match, Switch } from 'solid-js';
import { dismissServerNotice, serverConnection } from '../primitives/server-connection';

export function ServerNotice() {
  return (
    <Switch>
      <Match when={serverConnection().kind === 'lost'}>
        <p class="server-notice" role="status" data-kind="lost" data-testid="server-notice">
          Lost the connection to the NixSpace server. Reconnecting…
        </p>
      </Match>
      <Match when={serverConnection().kind === 'restarted'}>
        <p class="server-notice" role="status" data-kind="restarted" data-testid="server-notice">
          The NixSpace server restarted; this page reconnected to it.
          <button type="button" class="button button-small" onClick={dismissServerNotice}>
            Dismiss
          </button>
        </p>
      </Match>
    </Switch>
  );
}
