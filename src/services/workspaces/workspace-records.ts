// The stored state of workspaces: every change is written to the store and sent, as the
// workspace's new view, to its subscribers.

import type { WorkspaceRow } from '../../store/schema.js';
import type { Store } from '../../store/store.js';
import { findWorkspace, updateWorkspace, type WorkspacePatch } from '../../store/workspace-queries.js';
import type { WorkspaceEvents } from './workspace-events.js';
import type { WorkspaceView } from './workspace-view.js';

export class WorkspaceRecords {
  constructor(
    private readonly store: Store,
    readonly events: WorkspaceEvents,
    /** The public view of a row, with what only this process knows (its IDE, its idleness). */
    readonly view: (row: WorkspaceRow) => WorkspaceView,
  ) {}

  async save(id: string, patch: WorkspacePatch): Promise<WorkspaceRow> {
    const row = await updateWorkspace(this.store.db, id, patch);
    this.events.emit(id, { type: 'workspace', workspace: this.view(row) });
    return row;
  }

  find(id: string): Promise<WorkspaceRow | undefined> {
    return findWorkspace(this.store.db, id);
  }
}
