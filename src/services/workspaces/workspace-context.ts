// What the parts of the workspace service share: its options, the store's records and the event
// hub, the per-workspace lock, the pipelines at work, the live sandboxes, and where each
// workspace's directories and sockets are.

import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { NixSpaceError } from '../../errors.js';
import { parseRepoUrl } from '../../git/repo-url.js';
import { giveTree } from '../../runtime/host/give-tree.js';
import type { NetworkPolicy, SandboxDriver, SandboxUser } from '../../runtime/sandbox.js';
import { SandboxDrivers } from '../../runtime/sandbox-drivers.js';
import type { StepName, StepRecord, WorkspaceRow } from '../../store/schema.js';
import type { WorkspacePatch } from '../../store/workspace-queries.js';
import type { User } from '../access/access-service.js';
import type { VerifiedWorkspaceToken } from '../access/workspace-tokens.js';
import { deadlineFor, defaultLifetimeSettings } from './lifetime.js';
import { LiveSandboxes } from './live-sandboxes.js';
import { Pipelines } from './pipelines.js';
import { StepRunner } from './step-runner.js';
import { WorkspaceEvents } from './workspace-events.js';
import { isUuid } from './workspace-input.js';
import { WorkspaceLocks } from './workspace-lock.js';
import type { WorkspaceServiceOptions } from './workspace-options.js';
import { WorkspaceRecords } from './workspace-records.js';
import { toWorkspaceView, type WorkspaceView } from './workspace-view.js';

export class WorkspaceContext {
  readonly events: WorkspaceEvents;
  readonly records: WorkspaceRecords;
  readonly locks = new WorkspaceLocks();
  readonly pipelines: Pipelines;
  readonly sandboxes: LiveSandboxes;
  private readonly pendingViews = new Map<string, ReturnType<typeof setTimeout>>();

  /** The drivers workspaces may run on; each workspace stays on the one it was made on. */
  readonly drivers: SandboxDrivers;

  constructor(readonly options: WorkspaceServiceOptions) {
    this.drivers = options.drivers ?? new SandboxDrivers(options.driver);
    this.events = new WorkspaceEvents(options.logger);
    this.records = new WorkspaceRecords(options.store, this.events, (row) => this.view(row));
    this.pipelines = new Pipelines(this.events);
    this.sandboxes = new LiveSandboxes(this);
  }

  get logger(): Logger {
    return this.options.logger;
  }

  /** The public view of a row, with the live state only this process knows (the IDE, idleness). */
  view(row: WorkspaceRow): WorkspaceView {
    const limits = this.options.lifetime;
    return toWorkspaceView(row, this.sandboxes.get(row.id)?.ide?.status ?? null, {
      settings: limits?.settings ?? { ...defaultLifetimeSettings, idleTimeoutMs: 0 },
      now: this.now(),
      idleSince: limits?.idle.idleSince(row.id, row.updated_at.getTime()),
    });
  }

  /** The time by the limits' clock. */
  now(): Date {
    return this.options.lifetime?.now?.() ?? new Date();
  }

  /** A workspace made now: when, and when it is deleted (a lifetime later; never without one). */
  lifetimeFromNow(): { createdAt: Date; expiresAt: Date | null } {
    const limits = this.options.lifetime;
    const createdAt = this.now();
    return { createdAt, expiresAt: limits ? deadlineFor(createdAt, limits.settings) : null };
  }

  save(id: string, patch: WorkspacePatch): Promise<WorkspaceRow> {
    return this.records.save(id, patch);
  }

  log(id: string, step: StepName, line: string): void {
    this.events.log(id, step, line);
  }

  /** Runs lifecycle changes of one workspace one at a time. */
  locked<T>(id: string, fn: () => Promise<T>): Promise<T> {
    return this.locks.run(id, fn);
  }

  /** The steps of a pipeline on workspace `id`, recorded as they run. */
  runner(id: string, steps: StepRecord[], signal: AbortSignal): StepRunner {
    return new StepRunner(this.records, this.logger, id, steps, signal);
  }

  /** The workspace as `actor` may see it: its owner, or the holder of a workspace token for it. */
  async owned(actor: User | VerifiedWorkspaceToken, id: string): Promise<WorkspaceRow> {
    const row = isUuid(id) ? await this.records.find(id) : undefined;
    // A workspace token (checked by the caller) opens its one workspace; a user, only their own.
    // Another person's workspace answers exactly like a missing one.
    const allowed = 'workspaceId' in actor ? actor.workspaceId === id : row?.owner_id === actor.id;
    if (!row || !allowed) {
      throw new NixSpaceError('NOT_FOUND', `Workspace ${id} does not exist`);
    }
    return row;
  }

  /** Re-sends the workspace's view to its subscribers, at most every 100 ms (IDE status changes). */
  announce(id: string): void {
    if (this.pendingViews.has(id)) return;
    const timer = setTimeout(() => {
      this.pendingViews.delete(id);
      void this.records
        .find(id)
        .then((row) => {
          if (row) this.events.emit(id, { type: 'workspace', workspace: this.view(row) });
        })
        .catch(() => {});
    }, 100);
    timer.unref();
    this.pendingViews.set(id, timer);
  }

  workspaceDir(id: string): string {
    return join(this.options.workspacesDir, id);
  }

  /** The runtime directory only sandbox `sandboxId` mounts, made empty for a new start. */
  async runtimeDir(sandboxId: string, user: SandboxUser): Promise<string> {
    const dir = join(this.options.runDir, sandboxId);
    await rm(dir, { recursive: true, force: true });
    await mkdir(dir, { recursive: true, mode: 0o700 });
    // The sandbox's programs (code-server making its socket) are its user, never root.
    await giveTree(dir, user);
    return dir;
  }

  /** The server's directory for the socket sandbox `sandboxId`'s agent dials; that sandbox sees it read-only. */
  agentDir(sandboxId: string): string {
    return join(this.options.runDir, 'agents', sandboxId);
  }

  /** Where the server links sandbox `sandboxId`'s IDE socket, in a directory no sandbox mounts. */
  hostSocket(sandboxId: string): string {
    return join(this.options.runDir, 'host', `${sandboxId}.sock`);
  }

  /** The one mirror a workspace's sandboxes see (its checkout borrows the objects from there). */
  mirrorOf(row: Pick<WorkspaceRow, 'repo_url'>): string {
    return this.options.git.mirrorDir(parseRepoUrl(row.repo_url));
  }

  /** A driver that cannot enforce a policy (the unsafe driver cannot cut the network) does what it can. */
  networkFor(wanted: NetworkPolicy, driver: SandboxDriver): NetworkPolicy {
    const policies = driver.capabilities.networkPolicies;
    return policies.includes(wanted) ? wanted : policies[0]!;
  }

  /**
   * Kills what an earlier server left of sandbox `id`, its agent's sandbox included: on the driver
   * it ran on, or, when that is not known (a sandbox whose workspace is gone), on every driver.
   */
  async cleanupSandbox(id: string, driver?: SandboxDriver): Promise<void> {
    for (const each of driver ? [driver] : this.drivers.all) {
      await each.cleanup(id, { agentDir: this.agentDir(id) });
    }
  }
}
