// Enforces the lifetime and idle limits: now and then it deletes the workspaces whose deadline
// has passed and hibernates the running ones that sat idle. Each change goes through the
// workspace service, under the workspace's lock, and is decided again there (a workspace kept or
// opened meanwhile stays). Its timer is unref'd and stopped at shutdown; its clock is injected.

import type { Logger } from 'pino';
import type { WorkspaceRow } from '../../store/schema.js';
import type { Store } from '../../store/store.js';
import { listExpiredWorkspaces, listWorkspacesByStatus } from '../../store/workspace-queries.js';
import type { IdleTracker } from './idle-tracker.js';
import { isExpired, type LifetimeSettings, shouldHibernate, sweepEveryMs } from './lifetime.js';

/** What the sweeper asks of the workspace service. */
export interface LimitedWorkspaces {
  /** Deletes the workspace if `decide` still says so under its lock; whether it did. */
  expire(id: string, decide: (row: WorkspaceRow) => boolean): Promise<boolean>;
  /** Hibernates the workspace if `decide` still says so under its lock; whether it did. */
  hibernate(id: string, decide: (row: WorkspaceRow) => boolean): Promise<boolean>;
}

export interface LifetimeSweeperOptions {
  store: Store;
  workspaces: LimitedWorkspaces;
  idle: IdleTracker;
  settings: LifetimeSettings;
  logger: Logger;
  now?: () => Date;
  /** How often it looks; by default a tenth of the shortest limit (see `sweepEveryMs`). */
  everyMs?: number;
}

export class LifetimeSweeper {
  readonly #now: () => Date;
  #timer: ReturnType<typeof setInterval> | undefined;
  #sweeping: Promise<unknown> | undefined;

  constructor(private readonly options: LifetimeSweeperOptions) {
    this.#now = options.now ?? (() => new Date());
  }

  start(): void {
    if (this.#timer) return;
    this.#timer = setInterval(() => {
      if (this.#sweeping) return;
      this.#sweeping = this.sweep()
        .catch((error: unknown) => this.options.logger.warn({ err: error }, 'the lifetime sweep failed'))
        .finally(() => {
          this.#sweeping = undefined;
        });
    }, this.options.everyMs ?? sweepEveryMs(this.options.settings));
    this.#timer.unref();
  }

  /** Stops looking, once a sweep under way is done. */
  async stop(): Promise<void> {
    clearInterval(this.#timer);
    this.#timer = undefined;
    await this.#sweeping;
  }

  /** One look: what expired is deleted, what sat idle hibernates. */
  async sweep(): Promise<{ expired: string[]; hibernated: string[] }> {
    const { store, workspaces, logger } = this.options;
    const expired: string[] = [];
    for (const row of await listExpiredWorkspaces(store.db, this.#now())) {
      const gone = await workspaces
        .expire(row.id, (fresh) => isExpired(fresh, this.#now()))
        .catch((error: unknown) => {
          logger.warn({ err: error, workspace: row.id }, 'could not delete an expired workspace');
          return false;
        });
      if (!gone) continue;
      expired.push(row.id);
      logger.info({ workspace: row.id, expiresAt: row.expires_at }, 'deleted a workspace past its lifetime');
    }
    const hibernated: string[] = [];
    if (this.options.settings.idleTimeoutMs <= 0) return { expired, hibernated };
    for (const row of await listWorkspacesByStatus(store.db, ['running'])) {
      if (!this.idle(row)) continue;
      const done = await workspaces
        .hibernate(row.id, (fresh) => this.idle(fresh))
        .catch((error: unknown) => {
          logger.warn({ err: error, workspace: row.id }, 'could not hibernate an idle workspace');
          return false;
        });
      if (!done) continue;
      hibernated.push(row.id);
      logger.info({ workspace: row.id }, 'hibernated an idle workspace');
    }
    return { expired, hibernated };
  }

  /** Nothing has been open in the running workspace for the idle timeout (its last change counts as use). */
  private idle(row: WorkspaceRow): boolean {
    const since = this.options.idle.idleSince(row.id, row.updated_at.getTime());
    return shouldHibernate(row.status, since, this.#now(), this.options.settings);
  }
}
