// The lifecycle of a workspace at rest: start (a stopped, hibernated or failed one), stop,
// hibernate, resume, keep, expire and delete, each under the workspace's lock.

import { NixSpaceError, toErrorBody } from '../../errors.js';
import type { WorkspaceRow } from '../../store/schema.js';
import type { User } from '../access/access-service.js';
import type { VerifiedWorkspaceToken } from '../access/workspace-tokens.js';
import { storedSetup } from './environment-steps.js';
import type { WorkspaceContext } from './workspace-context.js';
import { hasCheckout, mountFiles, removeFiles } from './workspace-files.js';
import type { WorkspaceView } from './workspace-view.js';

export class WorkspaceLifecycle {
  constructor(private readonly ctx: WorkspaceContext) {}

  /** Starts a stopped, hibernated or failed (with its files) workspace again. */
  async start(user: User | VerifiedWorkspaceToken, id: string): Promise<WorkspaceView> {
    await this.ctx.owned(user, id);
    return this.ctx.locked(id, async () => {
      const row = await this.ctx.owned(user, id);
      if (row.status === 'running') return this.ctx.view(row);
      if (row.status === 'failed') {
        await this.assertRecoverable(row, 'start');
        // What the dead sandbox left (its cgroups, wrappers) goes before a new one starts.
        await this.ctx.sandboxes.stop(id);
        await this.ctx.cleanupSandbox(id);
      } else if (row.status !== 'stopped' && row.status !== 'hibernated') {
        throw new NixSpaceError(
          'CONFLICT',
          `Workspace ${row.name} is ${row.status}; only a stopped, hibernated or failed workspace can start`,
        );
      }
      await this.ctx.save(id, { status: 'starting', error: null, hibernatedAt: null });
      try {
        await mountFiles(this.ctx, id);
        await this.ctx.sandboxes.bringUp(row, await storedSetup(this.ctx, row));
        this.ctx.sandboxes.startIde(id);
        return this.ctx.view(await this.ctx.save(id, { status: 'running' }));
      } catch (error) {
        await this.ctx.save(id, {
          status: 'failed',
          error: { ...toErrorBody(error), step: 'sandbox', filesKept: true },
        });
        throw error;
      }
    });
  }

  async stop(user: User, id: string): Promise<WorkspaceView> {
    await this.ctx.owned(user, id);
    return this.ctx.locked(id, async () => {
      const row = await this.ctx.owned(user, id);
      if (row.status === 'stopped') return this.ctx.view(row);
      // Hibernated is stopped already: now it stays so, and opening it no longer starts it.
      if (row.status === 'hibernated')
        return this.ctx.view(await this.ctx.save(id, { status: 'stopped', hibernatedAt: null }));
      if (row.status === 'failed') {
        await this.assertRecoverable(row, 'stop');
        await this.ctx.sandboxes.stop(id);
        await this.ctx.cleanupSandbox(id);
        // Stopped, with the reason it failed kept until it starts again.
        return this.ctx.view(await this.ctx.save(id, { status: 'stopped' }));
      }
      if (row.status !== 'running') {
        throw new NixSpaceError(
          'CONFLICT',
          `Workspace ${row.name} is ${row.status}; only a running or failed workspace can stop`,
        );
      }
      await this.ctx.sandboxes.stop(id);
      return this.ctx.view(await this.ctx.save(id, { status: 'stopped' }));
    });
  }

  /**
   * A failed workspace with its checkout (its sandbox died, or a start or resume failed) can start
   * and stop again; a failed creation left no files and keeps its reason.
   */
  private async assertRecoverable(row: WorkspaceRow, action: 'start' | 'stop'): Promise<void> {
    if (row.commit_id !== null && (await hasCheckout(this.ctx, row.id))) return;
    const why = (row.error as { message?: string } | null)?.message ?? 'no reason was recorded';
    throw new NixSpaceError(
      'CONFLICT',
      `Workspace ${row.name} failed while being created (${why}) and has no files to ${action}: delete it and create it again`,
    );
  }

  /** Removes the workspace's sandbox and files; creation in progress is cancelled first. */
  async delete(user: User, id: string): Promise<void> {
    await this.ctx.owned(user, id);
    await this.ctx.pipelines.cancel(
      id,
      new NixSpaceError('INTERRUPTED', 'The workspace was deleted while being created'),
    );
    await this.ctx.locked(id, () => this.destroy(id));
  }

  /** What a delete does, under the workspace's lock: its sandbox and its files go. */
  private async destroy(id: string): Promise<void> {
    await this.ctx.sandboxes.stop(id);
    await removeFiles(this.ctx, id);
    await this.ctx.save(id, { status: 'deleted', sandbox: null });
    this.ctx.options.lifetime?.idle.forget(id);
    this.ctx.sandboxes.restarts.forget(id);
  }

  /**
   * Keeps the workspace past its lifetime: it has no deadline any more. Its owner's only; under its
   * lock, so a keep either comes before an expiry (which then spares it) or finds it deleted.
   */
  async keep(user: User, id: string): Promise<WorkspaceView> {
    await this.ctx.owned(user, id);
    return this.ctx.locked(id, async () => {
      const row = await this.ctx.owned(user, id);
      if (row.status === 'deleted') throw new NixSpaceError('NOT_FOUND', `Workspace ${id} was deleted`);
      if (row.expires_at === null) return this.ctx.view(row);
      return this.ctx.view(await this.ctx.save(id, { expiresAt: null, keptAt: this.ctx.now() }));
    });
  }

  /**
   * Deletes a workspace past its deadline, as its owner's delete does, if `decide` still says so
   * under its lock. One being made is left for a later look (a switch is not at rest either).
   */
  async expire(id: string, decide: (row: WorkspaceRow) => boolean): Promise<boolean> {
    return this.atRest(id, decide, () => this.destroy(id));
  }

  /**
   * Hibernates a running workspace that sat idle, if `decide` still says so under its lock: its
   * processes stop, its files stay, and opening it starts it again.
   */
  async hibernate(id: string, decide: (row: WorkspaceRow) => boolean): Promise<boolean> {
    return this.atRest(
      id,
      (row) => row.status === 'running' && decide(row),
      async () => {
        await this.ctx.sandboxes.stop(id);
        await this.ctx.save(id, { status: 'hibernated', hibernatedAt: this.ctx.now() });
      },
    );
  }

  /**
   * Runs `act` on a workspace no pipeline is working on, under its lock, if `decide` says so of
   * its row as it stands then; true when it acted.
   */
  private async atRest(
    id: string,
    decide: (row: WorkspaceRow) => boolean,
    act: () => Promise<void>,
  ): Promise<boolean> {
    const { pipelines } = this.ctx;
    if (pipelines.has(id)) return false;
    return this.ctx.locked(id, async () => {
      const row = await this.ctx.records.find(id);
      if (!row || pipelines.has(id) || !decide(row)) return false;
      await act();
      return true;
    });
  }

  /** Opening a hibernated workspace (a terminal, its IDE) starts it again; any other stays as it is. */
  async resume(actor: User | VerifiedWorkspaceToken, id: string): Promise<void> {
    if ((await this.ctx.owned(actor, id)).status === 'hibernated') await this.start(actor, id);
  }
}
