// `/`: start a new workspace, and see and manage the existing ones.
import { createSignal, Match, Show, Switch } from 'solid-js';
import type { NewWorkspace } from '../api/client';
import type { Workspace } from '../api/types';
import { Callout } from '../components/callout';
import { ConfirmDialog } from '../components/confirm-dialog';
import { NewWorkspaceForm } from '../components/new-workspace-form';
import { WorkspaceList } from '../components/workspace-list';
import { describeRevision, displayRepo } from '../lib/format';
import { useRouter } from '../lib/router';
import { createDocumentTitle } from '../primitives/create-document-title';
import { createNow } from '../primitives/create-now';
import { createWorkspaceList } from '../primitives/create-workspace-list';

export function HomePage() {
  const router = useRouter();
  const list = createWorkspaceList();
  const now = createNow(30_000);
  const [toDelete, setToDelete] = createSignal<Workspace | null>(null);
  createDocumentTitle(() => undefined);

  const create = async (input: NewWorkspace) => {
    const ws = await list.create(input);
    router.navigate(`/w/${encodeURIComponent(ws.id)}`);
  };

  const confirmDelete = () => {
    const ws = toDelete();
    setToDelete(null);
    if (ws) void list.remove(ws.id);
  };

  return (
    <div class="page">
      <section class="card hero">
        <NewWorkspaceForm onCreate={create} />
      </section>

      <section class="workspaces" aria-labelledby="workspaces-title">
        <h2 id="workspaces-title">Your workspaces</h2>
        <Show when={list.actionError()}>
          {(message) => <Callout tone="error" title={message()} onDismiss={list.dismissError} />}
        </Show>
        <Switch>
          <Match when={list.loading()}>
            <p class="muted loading" aria-busy="true">
              Loading workspaces…
            </p>
          </Match>
          <Match when={list.loadError() && list.workspaces().length === 0}>
            <Callout tone="error" title="Could not load your workspaces">
              <p>{list.loadError()}</p>
            </Callout>
          </Match>
          <Match when={list.workspaces().length === 0}>
            <div class="empty">
              <p>No workspaces yet.</p>
              <p class="muted">Paste a repository above to create your first one.</p>
            </div>
          </Match>
          <Match when={true}>
            <WorkspaceList
              workspaces={list.workspaces()}
              now={now()}
              isBusy={list.isBusy}
              onStart={(id) => void list.start(id)}
              onKeep={(id) => void list.keep(id)}
              onStop={(id) => void list.stop(id)}
              onDelete={(ws) => setToDelete(ws)}
            />
          </Match>
        </Switch>
      </section>

      <ConfirmDialog
        open={toDelete() !== null}
        title="Delete this workspace?"
        confirmLabel="Delete"
        onConfirm={confirmDelete}
        onCancel={() => setToDelete(null)}
      >
        <Show when={toDelete()}>
          {(ws) => (
            <p>
              <strong>{ws().name}</strong> ({displayRepo(ws().repoUrl)}, {describeRevision(ws())}) and its
              checkout will be removed. This cannot be undone.
            </p>
          )}
        </Show>
      </ConfirmDialog>
    </div>
  );
}
