// A workspace's files on the host: a volume of its own, made with the workspace, mounted while it
// exists, removed with it.

import { existsSync } from 'node:fs';
import { lstat, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { NixSpaceError } from '../../errors.js';
import { formatBytes } from '../../git/git-errors.js';
import type { WorkspaceContext } from './workspace-context.js';

/**
 * Makes a new workspace's directory, empty: on a volume of its own, mounted from now until the
 * workspace is deleted (or the server stops), owned by the workspace's host user.
 */
export async function makeWorkspaceDir(ctx: WorkspaceContext, id: string): Promise<void> {
  const owner = ctx.options.volumeOwner?.(id);
  await ctx.options.volumes.create(id, ctx.workspaceDir(id), owner ? { owner } : {});
}

/** Mounts an existing workspace's volume, unless it is mounted already. */
export async function mountFiles(ctx: WorkspaceContext, id: string): Promise<void> {
  const dir = ctx.workspaceDir(id);
  const mounted = await ctx.options.volumes.mount(id, dir);
  if (!mounted && ctx.options.volumes.quota && existsSync(dir)) {
    ctx.logger.warn(
      { workspace: id },
      'this workspace was made without a disk quota: its files share the host disk',
    );
  }
}

/** Removes a workspace's files (its volume), and the installs only it could be served from the cache. */
export async function removeFiles(ctx: WorkspaceContext, id: string): Promise<void> {
  await ctx.options.volumes.remove(id, ctx.workspaceDir(id));
  for (const sandboxId of [id, `${id}-viewer`]) {
    await rm(join(ctx.options.runDir, sandboxId), { recursive: true, force: true });
    await rm(ctx.agentDir(sandboxId), { recursive: true, force: true });
  }
  await ctx.options.installer.forget(id);
}

/** The checkout is there (looked at without following a link the sandbox may have planted). */
export function hasCheckout(ctx: WorkspaceContext, id: string): Promise<boolean> {
  return lstat(join(ctx.workspaceDir(id), 'repo')).then(
    (stat) => stat.isDirectory(),
    () => false,
  );
}

/** A write that failed because the workspace's disk is full says so, naming the limit. */
export function failIfFull(ctx: WorkspaceContext, error: unknown, what: string): never {
  const size = ctx.options.volumes.sizeBytes;
  const text = error instanceof NixSpaceError ? `${error.message}\n${error.detail ?? ''}` : String(error);
  if (size !== undefined && /No space left on device|ENOSPC|unable to write file/.test(text)) {
    throw new NixSpaceError(
      'REPO_TOO_LARGE',
      `The workspace's ${formatBytes(size)} disk (the server's --disk-limit) has no room for ${what}`,
      { ...(error instanceof NixSpaceError && error.detail ? { detail: error.detail } : {}), cause: error },
    );
  }
  throw error;
}
