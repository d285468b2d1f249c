// Runs the lifecycle changes of one workspace one at a time (start, stop, switch, delete, expiry…).

export class WorkspaceLocks {
  private readonly locks = new Map<string, Promise<unknown>>();

  /** Runs `fn` once every change of workspace `id` queued before it has settled. */
  run<T>(id: string, fn: () => Promise<T>): Promise<T> {
    const previous = this.locks.get(id) ?? Promise.resolve();
    const next = previous.catch(() => {}).then(fn);
    this.locks.set(id, next);
    void next
      .catch(() => {})
      .finally(() => {
        if (this.locks.get(id) === next) this.locks.delete(id);
      });
    return next;
  }
}
