// The read-only IDE shown to viewers: started on first use in a sandbox of its own that sees the
// workspace's files read-only and has no network and no view of the workspace's processes, so
// nothing done in it (its terminal included) changes the workspace. It can write only its own state.

import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { NixSpaceError } from '../../errors.js';
import { giveTree } from '../../runtime/host/give-tree.js';
import { RuntimeSandbox } from '../../runtime/runtime-sandbox.js';
import { startupSlowdownOf } from '../../runtime/sandbox.js';
import type { IdeHandle } from '../ide/ide-supervisor.js';
import type { LiveWorkspace } from './live-sandboxes.js';
import type { WorkspaceContext } from './workspace-context.js';
import type { IdeEndpoint, IdeStarter } from './workspace-options.js';

export interface ViewerIde {
  sandbox: RuntimeSandbox;
  ide: IdeHandle;
}

/** Stops a read-only IDE and its sandbox. */
export async function stopViewer(viewer: ViewerIde): Promise<void> {
  await viewer.ide.stop();
  await viewer.sandbox.stop();
}

/** The socket of the workspace's read-only IDE, started on first use. */
export async function viewerIde(ctx: WorkspaceContext, id: string): Promise<IdeEndpoint> {
  const live = ctx.sandboxes.get(id);
  const ide = ctx.options.ide;
  if (!live || !ide) throw new NixSpaceError('IDE_UNAVAILABLE', 'The IDE of this workspace is not running');
  await live.viewerIdeStopping;
  live.viewerIde ??= startViewerIde(ctx, id, live, ide);
  live.viewerIde.catch(() => {
    if (ctx.sandboxes.get(id) === live) live.viewerIde = undefined;
  });
  const viewer = await live.viewerIde;
  await viewer.ide.ready;
  return viewerIdeSocket(ctx, id);
}

/** The read-only IDE's socket when it runs (for its WebSockets, which follow a page load). */
export function viewerIdeSocket(ctx: WorkspaceContext, id: string): IdeEndpoint {
  const viewer = ctx.sandboxes.get(id)?.viewerIdeReady;
  const status = viewer?.ide.status;
  if (!viewer || status?.status !== 'running') {
    const state = status ? `${status.status}${status.detail ? `: ${status.detail}` : ''}` : 'not running';
    throw new NixSpaceError('IDE_UNAVAILABLE', `The read-only IDE of this workspace is ${state}`);
  }
  return { socketPath: viewer.ide.socketPath, cookie: viewer.ide.authCookie };
}

/** Stops the read-only IDE (its last viewer left); the next viewer starts it again. */
export async function stopViewerIde(ctx: WorkspaceContext, id: string): Promise<void> {
  const live = ctx.sandboxes.get(id);
  const starting = live?.viewerIde;
  if (!live || !starting) return;
  live.viewerIde = undefined;
  live.viewerIdeReady = undefined;
  const stopping = starting
    .then(stopViewer)
    .catch((error: unknown) =>
      ctx.logger.warn({ err: error, workspace: id }, 'the read-only IDE did not stop cleanly'),
    );
  // A viewer coming back meanwhile waits for it to be gone: the next one has the same sandbox id.
  live.viewerIdeStopping = stopping;
  await stopping;
  if (live.viewerIdeStopping === stopping) live.viewerIdeStopping = undefined;
}

async function startViewerIde(
  ctx: WorkspaceContext,
  id: string,
  live: LiveWorkspace,
  ide: IdeStarter,
): Promise<ViewerIde> {
  const dir = ctx.workspaceDir(id);
  // The viewers' VS Code keeps its state (settings, extensions) apart from the workspace, in a
  // directory made anew for each start that only the viewer sandbox mounts: nothing the owner's
  // sandbox (or an editor) writes reaches a viewer's IDE, and the host makes nothing in the
  // owner's tree.
  const runtimeDir = await ctx.runtimeDir(`${id}-viewer`, live.user);
  const stateDir = join(runtimeDir, 'state');
  await mkdir(stateDir, { mode: 0o700 });
  await giveTree(stateDir, live.user);
  const sandbox = await RuntimeSandbox.start(live.driver, {
    id: `${id}-viewer`,
    user: live.user,
    workspaceDir: stateDir,
    runtimeDir,
    agentDir: ctx.agentDir(`${id}-viewer`),
    readOnlyPaths: [dir, live.mirrorDir, ...live.toolchainPaths, ...ide.readOnlyPaths],
    hiddenPaths: ctx.options.hiddenPaths ?? [],
    network: ctx.networkFor('none', live.driver),
    limits: ctx.options.limits,
    hostname: `ws-${id.slice(0, 8)}`,
    env: live.shell.env,
  });
  const handle = ide.start({
    sandbox,
    workspaceDir: dir,
    stateDir,
    runtimeDir: live.driver.capabilities.socketDir ?? runtimeDir,
    hostSocket: ctx.hostSocket(`${id}-viewer`),
    readOnly: true,
    slowdown: startupSlowdownOf(live.driver),
    folder: join(dir, 'repo'),
    env: { ...live.shell.env, HOME: stateDir },
    onChange: () => {},
  });
  const viewer = { sandbox, ide: handle };
  live.viewerIdeReady = viewer;
  return viewer;
}
