// How often a workspace whose agent stopped answering is restarted for it. A workspace that wedges
// its agent again and again (by accident or on purpose) is not restarted forever: past the budget
// it fails with the reason, and its owner starts it again.

export class RestartBudget {
  readonly #restarts = new Map<string, number[]>();

  constructor(
    /** Restarts allowed within the window. */
    readonly max = 3,
    readonly windowMs = 3600_000,
    readonly now: () => number = Date.now,
  ) {}

  /** Takes one restart of the workspace's budget; false when it is spent. */
  take(id: string): boolean {
    const since = this.now() - this.windowMs;
    const recent = (this.#restarts.get(id) ?? []).filter((at) => at > since);
    if (recent.length >= this.max) {
      this.#restarts.set(id, recent);
      return false;
    }
    recent.push(this.now());
    this.#restarts.set(id, recent);
    return true;
  }

  forget(id: string): void {
    this.#restarts.delete(id);
  }
}
