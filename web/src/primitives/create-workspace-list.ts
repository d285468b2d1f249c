// The signed-in user's workspaces, refreshed while any of them is still being prepared,
// plus the actions a person can take on them from the list.
import { createEffect, createSignal, onCleanup } from 'solid-js';
import { createStore, reconcile } from 'solid-js/store';
import {
  createWorkspace,
  deleteWorkspace,
  keepWorkspace,
  listWorkspaces,
  type NewWorkspace,
  startWorkspace,
  stopWorkspace,
} from '../api/client';
import type { Workspace } from '../api/types';
import { errorMessage } from '../lib/error-message';
import { isInProgress } from '../lib/workspace-status';

const pollWhileBusyMs = 2000;

export function createWorkspaceList() {
  // A store reconciled by id keeps each row (and the focus inside it) stable across refreshes.
  const [workspaces, setWorkspaces] = createStore<Workspace[]>([]);
  const [loaded, setLoaded] = createSignal(false);
  const [loadError, setLoadError] = createSignal<string | null>(null);
  const [refreshes, setRefreshes] = createSignal(0);
  const [busyIds, setBusyIds] = createSignal<ReadonlySet<string>>(new Set());
  const [actionError, setActionError] = createSignal<string | null>(null);
  let disposed = false;
  let timer: number | undefined;

  const apply = (list: Workspace[]) => setWorkspaces(reconcile(list, { key: 'id', merge: true }));

  const refresh = async () => {
    try {
      const list = await listWorkspaces();
      if (disposed) return;
      apply(list);
      setLoadError(null);
    } catch (error) {
      if (!disposed) setLoadError(errorMessage(error));
    } finally {
      if (!disposed) {
        setLoaded(true);
        setRefreshes((n) => n + 1);
      }
    }
  };

  // Poll rather than hold a socket per row: the list is a summary, the detail page streams.
  createEffect(() => {
    refreshes();
    if (!workspaces.some((ws) => isInProgress(ws.status))) return;
    timer = window.setTimeout(() => void refresh(), pollWhileBusyMs);
    onCleanup(() => window.clearTimeout(timer));
  });
  onCleanup(() => {
    disposed = true;
    window.clearTimeout(timer);
  });
  void refresh();

  const replace = (updated: Workspace) =>
    apply(workspaces.map((ws) => (ws.id === updated.id ? updated : ws)));

  const withBusy = async (id: string, action: () => Promise<void>) => {
    setBusyIds((ids) => new Set(ids).add(id));
    setActionError(null);
    try {
      await action();
    } catch (error) {
      setActionError(errorMessage(error));
    } finally {
      setBusyIds((ids) => {
        const next = new Set(ids);
        next.delete(id);
        return next;
      });
      setRefreshes((n) => n + 1);
    }
  };

  return {
    workspaces: (): readonly Workspace[] => workspaces,
    loading: () => !loaded(),
    loadError,
    isBusy: (id: string) => busyIds().has(id),
    actionError,
    dismissError: () => setActionError(null),
    create: async (input: NewWorkspace) => {
      const created = await createWorkspace(input);
      apply([created, ...workspaces.filter((ws) => ws.id !== created.id)]);
      return created;
    },
    start: (id: string) => withBusy(id, async () => replace(await startWorkspace(id))),
    stop: (id: string) => withBusy(id, async () => replace(await stopWorkspace(id))),
    keep: (id: string) => withBusy(id, async () => replace(await keepWorkspace(id))),
    remove: (id: string) =>
      withBusy(id, async () => {
        await deleteWorkspace(id);
        apply(workspaces.filter((ws) => ws.id !== id));
      }),
  };
}
