// VS Code (code-server) of the workspace in a frame on its proxied path, once code-server runs
// and the frame carries a fresh workspace token; until then, what the IDE is doing.
import { Match, onCleanup, Show, Switch } from 'solid-js';
import type { IdeStatus } from '../api/types';
import { createIdeToken } from '../primitives/create-ide-token';
import { guardFrameFocus } from './guard-frame-focus';

const waiting: Record<string, string> = {
  installing: 'Installing VS Code (once for this machine)…',
  starting: 'Starting VS Code…',
  restarting: 'VS Code stopped unexpectedly; restarting it…',
  stopped: 'VS Code is stopped.',
};

export function IdePane(props: { workspaceId: string; ide: IdeStatus | null }) {
  const running = () => props.ide?.status === 'running';
  const ideToken = createIdeToken(
    () => props.workspaceId,
    () => props.ide !== null,
  );
  const token = ideToken.state;
  const status = () => props.ide?.status ?? 'starting';
  let renewals = 0;
  let focusGuard: ReturnType<typeof guardFrameFocus> | undefined;
  onCleanup(() => focusGuard?.dispose());

  // The frame is same-origin: a page that is NixSpace's own 401 body means its token ran out
  // before a renewal could run. Renew it and load the IDE again (a few times at most, not forever).
  const onFrameLoad = async (frame: HTMLIFrameElement) => {
    focusGuard?.loaded();
    let body: { code?: string } | undefined;
    try {
      body = JSON.parse(frame.contentDocument?.body?.textContent ?? '') as { code?: string };
    } catch {
      renewals = 0;
      return;
    }
    if ((body?.code !== 'TOKEN_EXPIRED' && body?.code !== 'UNAUTHENTICATED') || renewals >= 3) return;
    renewals++;
    await ideToken.renew();
    frame.src = props.ide?.url ?? frame.src;
  };

  return (
    <section class="ide-pane" aria-label="VS Code" data-testid="ide-pane" data-status={status()}>
      <Switch>
        <Match when={running() && token().kind === 'ready' && props.ide}>
          {(ide) => (
            // A new start of code-server (after a restart of it, the sandbox or the server) gets a
            // fresh page: the old one's connection cannot be resumed by the new process.
            <Show when={ide().startedAt ?? 'unknown'} keyed>
              {(startedAt) => (
                <iframe
                  class="ide-frame"
                  title="VS Code"
                  src={ide().url}
                  data-started={startedAt}
                  data-testid="ide-frame"
                  allow="clipboard-read; clipboard-write"
                  ref={(frame) => {
                    focusGuard?.dispose();
                    focusGuard = guardFrameFocus(frame);
                  }}
                  onLoad={(event) => void onFrameLoad(event.currentTarget)}
                />
              )}
            </Show>
          )}
        </Match>
        <Match when={status() === 'failed'}>
          <div class="ide-message" role="alert" data-testid="ide-status">
            <p class="ide-message-title">VS Code could not start.</p>
            <p class="ide-message-detail">{props.ide?.detail}</p>
            <p>The terminal still works; stop and start the workspace to try again.</p>
          </div>
        </Match>
        <Match when={token().kind === 'error'}>
          <div class="ide-message" role="alert" data-testid="ide-status">
            <p class="ide-message-title">Cannot open VS Code.</p>
            <p class="ide-message-detail">{(token() as { message: string }).message}</p>
          </div>
        </Match>
        <Match when={true}>
          <div class="ide-message" aria-busy="true" data-testid="ide-status">
            <p class="ide-message-title">{waiting[status()] ?? 'Starting VS Code…'}</p>
            <p class="ide-message-detail mono">{status() === 'installing' ? props.ide?.detail : ''}</p>
          </div>
        </Match>
      </Switch>
    </section>
  );
}
