// The event hub of workspaces: each one's subscribers, and the last lines its steps logged, replayed
// to whoever subscribes while a pipeline runs.

import type { Logger } from 'pino';
import type { StepName } from '../../store/schema.js';
import type { WorkspaceEvent } from './workspace-options.js';

const LOG_REPLAY_LINES = 200;

export class WorkspaceEvents {
  private readonly listeners = new Map<string, Set<(event: WorkspaceEvent) => void>>();
  private readonly recentLogs = new Map<string, WorkspaceEvent[]>();

  constructor(private readonly logger: Logger) {}

  /** Follows a workspace's events: the recent log lines first, then each event as it happens. */
  listen(id: string, listener: (event: WorkspaceEvent) => void): () => void {
    for (const event of this.recentLogs.get(id) ?? []) listener(event);
    let set = this.listeners.get(id);
    if (!set) {
      set = new Set();
      this.listeners.set(id, set);
    }
    set.add(listener);
    return () => {
      set.delete(listener);
      if (set.size === 0 && this.listeners.get(id) === set) this.listeners.delete(id);
    };
  }

  /** A line of a step's output, kept for replay until the pipeline ends. */
  log(id: string, step: StepName, line: string): void {
    const event: WorkspaceEvent = { type: 'log', step, line };
    let recent = this.recentLogs.get(id);
    if (!recent) {
      recent = [];
      this.recentLogs.set(id, recent);
    }
    recent.push(event);
    if (recent.length > LOG_REPLAY_LINES) recent.shift();
    this.emit(id, event);
  }

  /** The pipeline ended: its lines are no longer replayed. */
  forgetLogs(id: string): void {
    this.recentLogs.delete(id);
  }

  emit(id: string, event: WorkspaceEvent): void {
    for (const listener of this.listeners.get(id) ?? []) {
      try {
        listener(event);
      } catch (error) {
        this.logger.warn({ err: error, workspace: id }, 'workspace listener failed');
      }
    }
  }
}
