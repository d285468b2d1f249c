// The brief's limits as decisions: a workspace is deleted a while after it was made unless its
// owner keeps it, its owner is warned before, and a running workspace that sat idle long enough
// hibernates. Pure functions of the stored row, the settings and the time, so they are tested
// with any clock.

import type { WorkspaceRow, WorkspaceStatus } from '../../store/schema.js';
import type { WorkspaceIdle, WorkspaceLifetime } from '../../wire/workspaces.js';

export interface LifetimeSettings {
  /** How long a workspace lives from its creation, in ms; 0: for ever. */
  lifetimeMs: number;
  /** How long before its deadline its owner is warned, in ms. */
  warningMs: number;
  /** How long a running workspace may sit idle before it hibernates, in ms; 0: never. */
  idleTimeoutMs: number;
}

const HOUR = 3600_000;

export const defaultLifetimeSettings: LifetimeSettings = {
  lifetimeMs: 24 * HOUR,
  warningMs: HOUR,
  idleTimeoutMs: HOUR,
};

/** The statuses in which a workspace is at rest: nothing is being made, switched or started. */
const SETTLED: readonly WorkspaceStatus[] = ['running', 'stopped', 'hibernated', 'failed'];

/** When a workspace made at `createdAt` is deleted; null when the server sets no lifetime. */
export function deadlineFor(createdAt: Date, settings: LifetimeSettings): Date | null {
  return settings.lifetimeMs > 0 ? new Date(createdAt.getTime() + settings.lifetimeMs) : null;
}

/** The deadline has passed and the workspace is at rest: it is deleted now. */
export function isExpired(row: Pick<WorkspaceRow, 'expires_at' | 'status'>, now: Date): boolean {
  return row.expires_at !== null && row.expires_at <= now && SETTLED.includes(row.status);
}

/** A running workspace nothing has been open in since `idleSince` for the idle timeout hibernates. */
export function shouldHibernate(
  status: WorkspaceStatus,
  idleSince: number | undefined,
  now: Date,
  settings: LifetimeSettings,
): boolean {
  if (status !== 'running' || idleSince === undefined || settings.idleTimeoutMs <= 0) return false;
  return now.getTime() - idleSince >= settings.idleTimeoutMs;
}

/** How often deadlines and idleness are looked at: a tenth of the shortest limit, within 250 ms and a minute. */
export function sweepEveryMs(settings: LifetimeSettings): number {
  const limits = [settings.lifetimeMs, settings.idleTimeoutMs].filter((ms) => ms > 0);
  if (limits.length === 0) return 60_000;
  return Math.min(60_000, Math.max(250, Math.floor(Math.min(...limits) / 10)));
}

export function lifetimeView(
  row: Pick<WorkspaceRow, 'expires_at' | 'kept_at'>,
  now: Date,
  settings: LifetimeSettings,
): WorkspaceLifetime {
  const expiresAt = row.expires_at;
  const warnFrom = expiresAt ? new Date(expiresAt.getTime() - settings.warningMs) : null;
  return {
    expiresAt: expiresAt?.toISOString() ?? null,
    keptAt: row.kept_at?.toISOString() ?? null,
    warnFrom: warnFrom?.toISOString() ?? null,
    expiring: warnFrom !== null && warnFrom <= now,
  };
}

export function idleView(
  row: Pick<WorkspaceRow, 'status' | 'hibernated_at'>,
  idleSince: number | undefined,
  settings: LifetimeSettings,
): WorkspaceIdle {
  const running = row.status === 'running' && idleSince !== undefined;
  return {
    idleSince: running ? new Date(idleSince).toISOString() : null,
    hibernatesAt:
      running && settings.idleTimeoutMs > 0
        ? new Date(idleSince + settings.idleTimeoutMs).toISOString()
        : null,
    hibernatedAt: row.status === 'hibernated' ? (row.hibernated_at?.toISOString() ?? null) : null,
  };
}
