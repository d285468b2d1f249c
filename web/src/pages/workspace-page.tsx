// `/w/:id`: the progress view while a workspace is prepared, the terminal once it runs.
import { createEffect, createSignal, Match, Switch } from 'solid-js';
import { Callout } from '../components/callout';
import { ConfirmDialog } from '../components/confirm-dialog';
import { Link, useRouter } from '../lib/router';
import { isInProgress } from '../lib/workspace-status';
import { createDocumentTitle } from '../primitives/create-document-title';
import { createNow } from '../primitives/create-now';
import { createWorkspaceEvents } from '../primitives/create-workspace-events';
import { ProgressView } from './progress-view';
import { WorkspaceView } from './workspace-view';

export function WorkspacePage(props: { id: string }) {
  const router = useRouter();
  const live = createWorkspaceEvents(props.id);
  const now = createNow(200, () => {
    const ws = live.workspace();
    return ws !== undefined && isInProgress(ws.status);
  });
  // The lifetime warning reads "in N minutes" and appears when its time comes.
  const clock = createNow(30_000);
  const [confirmingDelete, setConfirmingDelete] = createSignal(false);
  createDocumentTitle(() => live.workspace()?.name);

  const remove = async () => {
    setConfirmingDelete(false);
    if (await live.remove()) router.navigate('/');
  };

  const status = () => live.workspace()?.status;

  // Opening a hibernated workspace starts it again (once per visit: a failed resume shows its error).
  let resumed = false;
  createEffect(() => {
    if (status() !== 'hibernated' || resumed) return;
    resumed = true;
    void live.resume();
  });

  return (
    <>
      <Switch>
        <Match when={live.missing()}>
          {(message) => (
            <div class="page page-narrow">
              <h1>Workspace not found</h1>
              <p class="muted">{message()}</p>
              <Link href="/" class="button">
                Back to workspaces
              </Link>
            </div>
          )}
        </Match>
        <Match when={!live.workspace() && live.loadError()}>
          {(message) => (
            <div class="page page-narrow">
              <Callout tone="error" title="Could not load this workspace">
                <p>{message()}</p>
              </Callout>
              <Link href="/" class="button">
                Back to workspaces
              </Link>
            </div>
          )}
        </Match>
        <Match when={status() === 'deleted'}>
          <div class="page page-narrow">
            <h1>Workspace deleted</h1>
            <p class="muted">This workspace has been deleted.</p>
            <Link href="/" class="button">
              Back to workspaces
            </Link>
          </div>
        </Match>
        <Match
          when={
            (status() === 'running' || status() === 'stopped' || status() === 'hibernated') &&
            live.workspace()
          }
        >
          {(ws) => (
            <WorkspaceView
              workspace={ws()}
              now={clock()}
              onKeep={() => void live.keep()}
              busy={live.busy()}
              actionError={live.actionError()}
              onStart={() => void live.start()}
              onStop={() => void live.stop()}
              onDismissError={live.dismissError}
              refreshing={live.refreshing()}
              onRefresh={() => void live.refresh()}
            />
          )}
        </Match>
        <Match when={live.workspace()}>
          {(ws) => (
            <ProgressView
              workspace={ws()}
              logs={live.logs()}
              now={now()}
              connection={live.connection()}
              busy={live.busy()}
              actionError={live.actionError()}
              onDelete={() => setConfirmingDelete(true)}
              onStart={() => void live.start()}
            />
          )}
        </Match>
        <Match when={true}>
          <div class="page page-narrow" aria-busy="true">
            <p class="muted loading">Loading workspace…</p>
          </div>
        </Match>
      </Switch>
      <ConfirmDialog
        open={confirmingDelete()}
        title="Delete this workspace?"
        confirmLabel="Delete"
        onConfirm={() => void remove()}
        onCancel={() => setConfirmingDelete(false)}
      >
        <p>
          <strong>{live.workspace()?.name}</strong> and its checkout will be removed. This cannot be undone.
        </p>
      </ConfirmDialog>
    </>
  );
}
