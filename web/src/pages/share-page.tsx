// `/s/:token`: someone else's workspace, opened through a share link, with or without an account.
// A viewer gets a read-only VS Code and watches the owner's terminal; an editor gets VS Code and a
// shell of their own. The visit is renewed before its token runs out, and a revoked or expired
// link closes the view with the reason.
import { createEffect, createSignal, lazy, Match, onCleanup, Show, Suspense, Switch } from 'solid-js';
import {
  ApiError,
  CloseCode,
  isServerAway,
  openWorkspaceEvents,
  resumeWorkspace,
  visitShare,
} from '../api/client';
import type { ShareRole, ShareVisit, Workspace, WorkspaceEvent } from '../api/types';
import { Callout } from '../components/callout';
import { SplitView } from '../components/split-view';
import { IdePane } from '../ide/ide-pane';
import { errorMessage } from '../lib/error-message';
import { makeBackoff } from '../lib/make-backoff';
import { createDocumentTitle } from '../primitives/create-document-title';
import { isServerGone, serverAnswered, serverLost } from '../primitives/server-connection';
import { WorkspaceSummary } from './workspace-summary';

type ShareState =
  | { kind: 'opening' }
  | { kind: 'open'; role: ShareRole }
  | { kind: 'closed'; title: string; message: string };

const titles: Record<string, string> = {
  SHARE_LINK_REVOKED: 'This share link was revoked',
  SHARE_LINK_EXPIRED: 'This share link has expired',
  SHARE_LINK_INVALID: 'This share link is not valid',
  WORKSPACE_FULL: 'This workspace is full',
  UNAUTHENTICATED: 'Sign in to open this link',
  NOT_FOUND: 'The shared workspace no longer exists',
};

// xterm.js is most of the bundle; load it only when a terminal is about to be shown.
const TerminalPane = lazy(() =>
  import('../terminal/terminal-pane').then((module) => ({ default: module.TerminalPane })),
);

const previousKey = (token: string) => `nixspace.share.${token.slice(0, 16)}`;

export function SharePage(props: { token: string }) {
  const [state, setState] = createSignal<ShareState>({ kind: 'opening' });
  const [workspace, setWorkspace] = createSignal<Workspace>();
  createDocumentTitle(() => workspace()?.name);
  let renewTimer: number | undefined;
  let socket: WebSocket | undefined;
  let reconnectTimer: number | undefined;
  let disposed = false;
  const backoff = makeBackoff();

  const close = (code: string, message: string) => {
    setState({ kind: 'closed', title: titles[code] ?? 'Cannot open this workspace', message });
    window.clearTimeout(renewTimer);
    window.clearTimeout(reconnectTimer);
    socket?.close(1000);
  };

  const visit = async () => {
    let previous: string | undefined;
    try {
      previous = window.sessionStorage.getItem(previousKey(props.token)) ?? undefined;
    } catch {
      previous = undefined;
    }
    try {
      const opened: ShareVisit = await visitShare(props.token, previous);
      if (disposed) return;
      try {
        window.sessionStorage.setItem(previousKey(props.token), opened.token);
      } catch {
        // Without storage a reload counts as another person for the limit; nothing else changes.
      }
      setWorkspace((current) => current ?? opened.workspace);
      if (state().kind !== 'open') setState({ kind: 'open', role: opened.role });
      // Renew at two thirds of the token's life, while the link stands.
      const lifetime = Math.max(Date.parse(opened.expiresAt) - Date.now(), 30_000);
      renewTimer = window.setTimeout(() => void visit(), (lifetime * 2) / 3);
      follow(opened.workspace.id);
    } catch (error) {
      if (disposed) return;
      if (isServerAway(error) && state().kind === 'open') {
        // The server is away (restarting, or the network is): try again until it answers.
        serverLost();
        reconnectTimer = window.setTimeout(() => void visit(), backoff.next());
      } else if (error instanceof ApiError) close(error.code, error.message);
      else close('NETWORK', errorMessage(error));
    }
  };

  /** Keeps a progress socket open: the workspace's state live, and the owner's revocation felt at once. */
  const follow = (id: string) => {
    if (socket || disposed) return;
    const current = openWorkspaceEvents(id);
    socket = current;
    let lastError: { code: string; message: string } | undefined;
    current.onmessage = (message) => {
      if (typeof message.data !== 'string') return;
      backoff.reset();
      try {
        const event = JSON.parse(message.data) as
          | WorkspaceEvent
          | { type: 'error'; code: string; message: string };
        if (event.type === 'hello') serverAnswered(event.server.startedAt);
        if (event.type === 'workspace') setWorkspace(event.workspace);
        if (event.type === 'error') lastError = event;
      } catch {
        // A malformed frame is not worth dropping the stream for.
      }
    };
    current.onclose = (event) => {
      if (socket !== current) return;
      socket = undefined;
      if (disposed || state().kind === 'closed') return;
      if (
        event.code === CloseCode.linkGone ||
        event.code === CloseCode.full ||
        event.code === CloseCode.notFound
      ) {
        close(
          lastError?.code ?? 'SHARE_LINK_REVOKED',
          lastError?.message ?? 'The link no longer opens this workspace.',
        );
        return;
      }
      if (isServerGone(event.code)) serverLost();
      // Anything else (a dropped connection, an expired token): visit again, which renews the token.
      reconnectTimer = window.setTimeout(() => void visit(), backoff.next());
    };
  };

  void visit();
  onCleanup(() => {
    disposed = true;
    window.clearTimeout(renewTimer);
    window.clearTimeout(reconnectTimer);
    socket?.close(1000);
  });

  const running = () => workspace()?.status === 'running';
  // A hibernated workspace starts again when someone opens it; the stream shows it coming back.
  let resuming = false;
  createEffect(() => {
    const ws = workspace();
    if (ws?.status !== 'hibernated') {
      resuming = false;
      return;
    }
    if (resuming) return;
    resuming = true;
    void resumeWorkspace(ws.id).catch(() => {});
  });
  const role = () => {
    const current = state();
    return current.kind === 'open' ? current.role : undefined;
  };

  return (
    <Switch>
      <Match when={state().kind === 'closed' && (state() as Extract<ShareState, { kind: 'closed' }>)}>
        {(closed) => (
          <div class="page page-narrow" data-testid="share-closed">
            <Callout tone="error" title={closed().title}>
              <p>{closed().message}</p>
            </Callout>
          </div>
        )}
      </Match>
      <Match when={role() && workspace()}>
        {(ws) => (
          <div class="workspace-view" data-testid="shared-workspace" data-role={role()}>
            <header class="workspace-bar">
              <WorkspaceSummary workspace={ws()} headingLevel={1} />
              <div class="workspace-bar-actions">
                <span class="role-badge" data-role={role()} data-testid="share-role">
                  {role() === 'viewer' ? 'View only' : 'Can edit'}
                </span>
                <Show when={role() === 'viewer'}>
                  {/* The server attaches a viewer to the owner's shells only (hello: openedBy "owner"). */}
                  <span class="muted" data-testid="share-watching">
                    Watching the owner's terminal
                  </span>
                </Show>
              </div>
            </header>
            <Show when={role() === 'viewer'}>
              <p class="visually-hidden" role="status">
                You are viewing this workspace read-only: VS Code opens files read-only and the terminal shows
                the owner's shell, never another guest's.
              </p>
            </Show>
            <div class="workspace-panes">
              <Show
                when={running()}
                fallback={
                  <section class="pane pane-stopped" aria-label="Workspace not running">
                    <p class="pane-stopped-title">This workspace is {ws().status}.</p>
                    <p>It opens here again when its owner starts it.</p>
                  </section>
                }
              >
                <SplitView
                  startLabel="VS Code"
                  endLabel="terminal"
                  showStart={ws().ide !== null}
                  showEnd={true}
                  start={<IdePane workspaceId={ws().id} ide={ws().ide} />}
                  end={
                    <Suspense fallback={<section class="terminal-pane" aria-busy="true" />}>
                      <TerminalPane workspaceId={ws().id} readOnly={role() === 'viewer'} />
                    </Suspense>
                  }
                />
              </Show>
            </div>
          </div>
        )}
      </Match>
      <Match when={true}>
        <div class="page page-narrow" aria-busy="true">
          <p class="muted loading">Opening the shared workspace…</p>
        </div>
      </Match>
    </Switch>
  );
}
