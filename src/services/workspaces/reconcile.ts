// After a (re)start, brings the store in line with reality: creations that were cut off fail with
// a reason, workspaces that were running (or starting, or switching) get their sandbox back, and
// what the sandboxes of failed ones left is cleared so that they can start again.

import { readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { toErrorBody } from '../../errors.js';
import type { StepRecord, WorkspaceStatus } from '../../store/schema.js';
import { listWorkspacesByStatus } from '../../store/workspace-queries.js';
import { storedSetup } from './environment-steps.js';
import { withMemoryImages } from './memory-hibernation.js';
import type { WorkspaceContext } from './workspace-context.js';
import { mountFiles, removeFiles } from './workspace-files.js';
import { isUuid } from './workspace-input.js';

const CREATING: WorkspaceStatus[] = ['pending', 'fetching', 'building', 'starting'];

export async function reconcile(ctx: WorkspaceContext): Promise<{ failed: string[]; resumed: string[] }> {
  const db = ctx.options.store.db;
  // Files stay mounted while a workspace exists: stopped ones too (a branch or a start reads them).
  for (const row of await listWorkspacesByStatus(db, ['stopped', 'hibernated', 'failed'])) {
    await mountFiles(ctx, row.id).catch((error: unknown) =>
      ctx.logger.error({ err: error, workspace: row.id }, "could not mount the workspace's volume"),
    );
  }
  const rows = await listWorkspacesByStatus(db, [...CREATING, 'running', 'switching', 'failed']);
  const failed: string[] = [];
  const resumed: string[] = [];
  for (const row of rows) {
    // A running workspace's sandbox outlives the server: it is taken back below if it still runs.
    if (row.status !== 'running') await ctx.cleanupSandbox(row.id, ctx.drivers.known(row));
    if (row.status === 'failed') continue;
    // `starting` is also the status of a start of a stopped workspace: one whose creation had
    // finished keeps its files and resumes.
    const created = (row.steps as StepRecord[]).some((s) => s.name === 'ready' && s.status === 'done');
    if (row.status === 'running' || row.status === 'switching' || (row.status === 'starting' && created)) {
      try {
        await mountFiles(ctx, row.id);
        // A switch cut off keeps its checkout; the workspace resumes with the last stored environment.
        await ctx.sandboxes.bringUp(row, await storedSetup(ctx, row), { adopt: row.status === 'running' });
        if (row.status !== 'running') await ctx.save(row.id, { status: 'running' });
        ctx.sandboxes.startIde(row.id);
        // A VS Code still running is taken back before anyone asks: its open pages reconnect to
        // it instead of loading a new one. (One that must start anew is not waited for long.)
        const ide = ctx.sandboxes.get(row.id)?.ide;
        if (row.status === 'running' && ide) await Promise.race([ide.ready, delay(3000)]);
        resumed.push(row.id);
        continue;
      } catch (error) {
        ctx.logger.error({ err: error, workspace: row.id }, 'could not resume workspace');
        await ctx.save(row.id, {
          status: 'failed',
          error: { ...toErrorBody(error), step: 'sandbox', filesKept: true },
        });
        failed.push(row.id);
        continue;
      }
    }
    await removeFiles(ctx, row.id);
    const steps = (row.steps as StepRecord[]).map((step) =>
      step.status === 'running' ? { ...step, status: 'failed' as const } : step,
    );
    const failedStep = steps.find((s) => s.status === 'failed');
    await ctx.save(row.id, {
      status: 'failed',
      steps,
      error: {
        code: 'INTERRUPTED',
        message: `NixSpace stopped while this workspace was ${row.status}; delete it and create it again`,
        ...(failedStep ? { step: failedStep.name } : {}),
      },
    });
    failed.push(row.id);
  }
  // A workspace hibernated with its memory keeps what it resumes from.
  const hibernated = (await listWorkspacesByStatus(db, ['hibernated'])).map((row) => ({
    id: row.id,
    driver: ctx.drivers.known(row),
  }));
  const saved = await withMemoryImages(hibernated);
  await endOrphanSandboxes(ctx, new Set([...resumed, ...saved]));
  return { failed, resumed };
}

/** Ends the agent sandboxes left running for workspaces that no longer run (deleted, say). */
async function endOrphanSandboxes(ctx: WorkspaceContext, running: ReadonlySet<string>): Promise<void> {
  const dir = join(ctx.options.runDir, 'agents');
  for (const id of await readdir(dir).catch(() => [] as string[])) {
    const workspaceId = id.replace(/-(viewer|install|git)$/, '');
    if (running.has(id) || !isUuid(workspaceId)) continue;
    await ctx
      .cleanupSandbox(id)
      .catch((error: unknown) =>
        ctx.logger.warn({ err: error, sandbox: id }, 'could not end a sandbox left running'),
      );
    await rm(join(dir, id), { recursive: true, force: true });
  }
}
