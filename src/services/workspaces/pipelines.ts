// The pipelines at work on workspaces (a creation, a branch, the environment half of a switch):
// at most one per workspace, each with its own cancel; its log lines are replayed until it ends.

import type { NixSpaceError } from '../../errors.js';
import type { WorkspaceEvents } from './workspace-events.js';

interface Pipeline {
  abort: AbortController;
  done: Promise<void>;
}

export class Pipelines {
  private readonly running = new Map<string, Pipeline>();

  constructor(private readonly events: WorkspaceEvents) {}

  /** Whether a pipeline works on the workspace (it is not at rest). */
  has(id: string): boolean {
    return this.running.has(id);
  }

  /** Runs `work` on workspace `id` in the background, with the signal its cancel aborts. */
  start(id: string, work: (signal: AbortSignal) => Promise<void>): void {
    const abort = new AbortController();
    const done = work(abort.signal).finally(() => {
      this.running.delete(id);
      this.events.forgetLogs(id);
    });
    this.running.set(id, { abort, done });
  }

  /** Cancels the workspace's pipeline, if one runs, and waits until it has recorded how it ended. */
  async cancel(id: string, reason: NixSpaceError): Promise<void> {
    const pipeline = this.running.get(id);
    if (!pipeline) return;
    pipeline.abort.abort(reason);
    await pipeline.done;
  }

  /** Cancels every pipeline (the server stops) and waits until each has ended. */
  async cancelAll(reason: NixSpaceError): Promise<void> {
    const pipelines = [...this.running.values()];
    for (const pipeline of pipelines) pipeline.abort.abort(reason);
    await Promise.allSettled(pipelines.map((p) => p.done));
  }
}
