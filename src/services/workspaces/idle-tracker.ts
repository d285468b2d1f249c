// Whether each workspace is in use: the terminals, IDE connections and jobs open in it, and since
// when none has been. It hears of them as they open and close (the terminal and IDE sockets, a
// job's start and end); the clock is injected, so what it decides is tested without waiting.

export type ActivityKind = 'terminal' | 'ide' | 'job';

/** Where activity is reported: each `open` returns what ends it (calling it again does nothing). */
export interface WorkspaceActivity {
  open(workspaceId: string, kind: ActivityKind): () => void;
}

export class IdleTracker implements WorkspaceActivity {
  readonly #open = new Map<string, Map<ActivityKind, number>>();
  readonly #lastActive = new Map<string, number>();
  /** Before this tracker existed (a server start) nothing is known: the clock starts here. */
  readonly #since: number;

  constructor(private readonly now: () => number = Date.now) {
    this.#since = now();
  }

  open(workspaceId: string, kind: ActivityKind): () => void {
    let counts = this.#open.get(workspaceId);
    if (!counts) {
      counts = new Map();
      this.#open.set(workspaceId, counts);
    }
    counts.set(kind, (counts.get(kind) ?? 0) + 1);
    let ended = false;
    return () => {
      if (ended) return;
      ended = true;
      const left = (counts.get(kind) ?? 1) - 1;
      if (left > 0) counts.set(kind, left);
      else counts.delete(kind);
      if (counts.size === 0 && this.#open.get(workspaceId) === counts) this.#open.delete(workspaceId);
      this.#lastActive.set(workspaceId, this.now());
    };
  }

  /** What is open in the workspace now, by kind. */
  openIn(workspaceId: string): Partial<Record<ActivityKind, number>> {
    return Object.fromEntries(this.#open.get(workspaceId) ?? []);
  }

  busy(workspaceId: string): boolean {
    return this.#open.has(workspaceId);
  }

  /**
   * Since when nothing has been open in the workspace (ms since the epoch), or undefined while
   * something is. `notBefore`: when the workspace last changed (it started, say), which counts as
   * activity too.
   */
  idleSince(workspaceId: string, notBefore = 0): number | undefined {
    if (this.busy(workspaceId)) return undefined;
    return Math.max(this.#lastActive.get(workspaceId) ?? this.#since, notBefore);
  }

  /** The workspace is gone: nothing more is kept of it (what is still open ends on its own). */
  forget(workspaceId: string): void {
    this.#lastActive.delete(workspaceId);
  }
}
