// Workspaces: from a Git URL to a running sandbox, as a persisted state machine
// (pending → fetching → building → starting → running ⇄ stopped; failed; deleted).
// Every step is recorded with its timing and streamed to subscribers as it happens.
//
// This is the service's face: access checks and the lifecycle (start, stop, hibernate, expire,
// delete) under the workspace's lock. Creation, branching and switching are pipelines
// (create-pipeline, branch-pipeline, switch-pipeline) over one step runner; the running sandboxes
// are in live-sandboxes, the read-only IDE in viewer-ide, the restart's reconcile in reconcile.

import { join } from 'node:path';
import type { EnvSpec } from '../../detect/env-spec.js';
import { NixSpaceError } from '../../errors.js';
import { parseRepoUrl } from '../../git/repo-url.js';
import { listStashes, type SwitchResult } from '../../git/switch-checkout.js';
import { presentIn } from '../../runtime/host/workspace-file.js';
import type { RuntimeSandbox } from '../../runtime/runtime-sandbox.js';
import type { SandboxDriver } from '../../runtime/sandbox.js';
import type { SandboxDrivers } from '../../runtime/sandbox-drivers.js';
import type { WorkspaceRow } from '../../store/schema.js';
import { findWorkspace, listChildWorkspaces, listWorkspaces } from '../../store/workspace-queries.js';
import type { EnvironmentDiff, EnvironmentVersion } from '../../wire/environments.js';
import type { RefListing } from '../../wire/switching.js';
import type { User } from '../access/access-service.js';
import type { VerifiedWorkspaceToken } from '../access/workspace-tokens.js';
import { branchWorkspace } from './branch-pipeline.js';
import { type CreateInput, createWorkspace } from './create-pipeline.js';
import { diffEnvironments, listVersions } from './environment-versions.js';
import { reconcile } from './reconcile.js';
import { type SwitchInput, switchWorkspace } from './switch-pipeline.js';
import type { WorkspaceTerminals } from './terminals.js';
import { stopViewerIde, viewerIde, viewerIdeSocket } from './viewer-ide.js';
import { checkoutGit } from './workspace-checkout-git.js';
import { WorkspaceContext } from './workspace-context.js';
import { isUuid } from './workspace-input.js';
import { WorkspaceLifecycle } from './workspace-lifecycle.js';
import type { IdeEndpoint, WorkspaceEvent, WorkspaceServiceOptions } from './workspace-options.js';
import type { WorkspaceView } from './workspace-view.js';

export type {
  BackingServicesStarter,
  IdeEndpoint,
  IdeStarter,
  RunningJobsPolicy,
  WorkspaceEvent,
  WorkspaceJobs,
  WorkspaceServiceOptions,
} from './workspace-options.js';

/** Where a job of a workspace runs: its sandbox, the working directory and the shells' variables. */
type JobShell = () => { sandbox: RuntimeSandbox; cwd: string; env: Record<string, string> };

export class WorkspaceService {
  private readonly ctx: WorkspaceContext;
  private readonly lifecycle: WorkspaceLifecycle;

  constructor(options: WorkspaceServiceOptions) {
    this.ctx = new WorkspaceContext(options);
    this.lifecycle = new WorkspaceLifecycle(this.ctx);
  }

  /** Where new workspaces run unless they ask for another of `sandboxDrivers`. */
  get sandboxDriver(): SandboxDriver {
    return this.ctx.drivers.defaultDriver;
  }

  /** Every driver a workspace may be made on here, the default first. */
  get sandboxDrivers(): SandboxDrivers {
    return this.ctx.drivers;
  }

  /** Validates the source and starts creating the workspace; progress follows as events. */
  create(user: User, input: CreateInput): Promise<WorkspaceView> {
    return createWorkspace(this.ctx, user, input);
  }

  /** The workspace as its owner, or the holder of a workspace token for it (a share link), sees it. */
  async get(user: User | VerifiedWorkspaceToken, id: string): Promise<WorkspaceView> {
    return this.ctx.view(await this.ctx.owned(user, id));
  }

  async list(user: User): Promise<WorkspaceView[]> {
    return (await listWorkspaces(this.ctx.options.store.db, user.id)).map((row) => this.ctx.view(row));
  }

  /** Starts a stopped, hibernated or failed (with its files) workspace again. */
  start(user: User | VerifiedWorkspaceToken, id: string): Promise<WorkspaceView> {
    return this.lifecycle.start(user, id);
  }

  /** Stops a running workspace, or a failed one's remains; hibernated, it stays stopped. */
  stop(user: User, id: string): Promise<WorkspaceView> {
    return this.lifecycle.stop(user, id);
  }

  /** Removes the workspace's sandbox and files; creation in progress is cancelled first. */
  delete(user: User, id: string): Promise<void> {
    return this.lifecycle.delete(user, id);
  }

  /** Keeps the workspace past its lifetime: it has no deadline any more. */
  keep(user: User, id: string): Promise<WorkspaceView> {
    return this.lifecycle.keep(user, id);
  }

  /** Deletes a workspace past its deadline, if `decide` still says so under its lock. */
  expire(id: string, decide: (row: WorkspaceRow) => boolean): Promise<boolean> {
    return this.lifecycle.expire(id, decide);
  }

  /** Hibernates a running workspace that sat idle, if `decide` still says so under its lock. */
  hibernate(id: string, decide: (row: WorkspaceRow) => boolean): Promise<boolean> {
    return this.lifecycle.hibernate(id, decide);
  }

  /** Opening a hibernated workspace (a terminal, its IDE) starts it again; any other stays as it is. */
  resume(actor: User | VerifiedWorkspaceToken, id: string): Promise<void> {
    return this.lifecycle.resume(actor, id);
  }

  /**
   * Moves a running workspace to another branch, tag or commit in place: the git part before this
   * returns, the environment after, as progress events (see switch-pipeline).
   */
  switchRef(
    user: User,
    id: string,
    input: SwitchInput,
  ): Promise<{ workspace: WorkspaceView; switched: SwitchResult }> {
    return switchWorkspace(this.ctx, user, id, input);
  }

  /** Branches, tags and recent commits the workspace can switch to (refreshing the mirror first). */
  async refs(user: User, id: string): Promise<RefListing> {
    const row = await this.ctx.owned(user, id);
    const repo = parseRepoUrl(row.repo_url);
    const git = this.ctx.options.git;
    // A fetch keeps the list current; offline, the mirror's last state is still worth showing.
    await git
      .fetch(repo, {})
      .catch((error: unknown) =>
        this.ctx.logger.warn({ err: error, workspace: id }, 'could not refresh the mirror'),
      );
    return git.listRefs(repo);
  }

  /** The environments a workspace has run with, newest first, each with what it changed. */
  async versions(user: User, id: string): Promise<EnvironmentVersion[]> {
    await this.ctx.owned(user, id);
    return listVersions(this.ctx, id);
  }

  /** What changed between two environments the user's workspaces have run with. */
  diffEnvironments(user: User, fromId: string, toId: string): Promise<EnvironmentDiff> {
    return diffEnvironments(this.ctx, user, fromId, toId);
  }

  /**
   * Returns a running workspace to an earlier environment version in one step: a switch to the
   * commit it ran at, whose environment comes from the cache by hash.
   */
  async rollback(
    user: User,
    id: string,
    input: Omit<SwitchInput, 'ref'> & { versionId: string },
  ): Promise<{ workspace: WorkspaceView; switched: SwitchResult }> {
    const version = (await this.versions(user, id)).find((v) => v.id === input.versionId);
    if (!version)
      throw new NixSpaceError('NOT_FOUND', `Environment version ${input.versionId} does not exist`);
    return this.switchRef(user, id, {
      ref: version.commit,
      uncommitted: input.uncommitted,
      jobs: input.jobs,
    });
  }

  /** Branches a workspace: a new workspace from its files, as a child of it (see branch-pipeline). */
  branch(
    user: User,
    id: string,
    input: { ref?: string | null | undefined; changes?: unknown; sandbox?: string | null | undefined },
  ): Promise<WorkspaceView> {
    return branchWorkspace(this.ctx, user, id, input);
  }

  /** Where a workspace sits in its family: the workspace it was branched from, and its branches. */
  async lineage(
    user: User,
    id: string,
  ): Promise<{ parent: WorkspaceView | null; children: WorkspaceView[] }> {
    const row = await this.ctx.owned(user, id);
    const db = this.ctx.options.store.db;
    const parent = row.parent_id ? await findWorkspace(db, row.parent_id) : undefined;
    const children = await listChildWorkspaces(db, row.id);
    return {
      parent:
        parent && parent.owner_id === user.id && parent.status !== 'deleted' ? this.ctx.view(parent) : null,
      children: children.filter((c) => c.owner_id === user.id).map((c) => this.ctx.view(c)),
    };
  }

  /** Stashes in the workspace's repository, newest first (switching can create them). */
  async stashes(user: User, id: string): Promise<{ ref: string; message: string }[]> {
    await this.ctx.owned(user, id);
    // A workspace whose files are gone (a failed creation, a deleted workspace) has none.
    if (!(await presentIn(this.workspaceDir(id), 'repo/.git'))) return [];
    return checkoutGit(this.ctx, id, undefined, listStashes);
  }

  /** Follows a workspace: the current state first, then every change and step log line. */
  async subscribe(
    user: User | VerifiedWorkspaceToken,
    id: string,
    listener: (event: WorkspaceEvent) => void,
  ): Promise<() => void> {
    const row = await this.ctx.owned(user, id);
    listener({ type: 'workspace', workspace: this.ctx.view(row) });
    return this.ctx.events.listen(id, listener);
  }

  /** The terminals of a running workspace. */
  async terminals(user: User | VerifiedWorkspaceToken, id: string): Promise<WorkspaceTerminals> {
    return (await this.running(user, id, 'open a terminal')).terminals;
  }

  /**
   * Where a job of a running workspace runs: its sandbox, the repository as working directory and
   * the environment every shell of the workspace gets. Read on each call, so jobs started after
   * the services came up see their connection settings.
   */
  async jobShell(user: User, id: string): Promise<{ name: string; shell: JobShell }> {
    const live = await this.running(user, id, 'run a job');
    const row = await this.ctx.owned(user, id);
    return {
      name: row.name,
      shell: () => ({ sandbox: live.sandbox, cwd: live.shell.cwd, env: live.shell.env }),
    };
  }

  /** The live sandbox of a running workspace (a hibernated one is started first), or why there is none. */
  private async running(actor: User | VerifiedWorkspaceToken, id: string, to: string) {
    await this.resume(actor, id);
    const row = await this.ctx.owned(actor, id);
    const live = this.ctx.sandboxes.get(id);
    if (row.status !== 'running' || !live) {
      throw new NixSpaceError('CONFLICT', `Workspace ${row.name} is ${row.status}; start it to ${to}`);
    }
    return live;
  }

  /** A running workspace's job shell, for jobs that ran on through a server restart. */
  liveJobShell(id: string): JobShell | undefined {
    const live = this.ctx.sandboxes.get(id);
    if (!live) return undefined;
    return () => ({ sandbox: live.sandbox, cwd: live.shell.cwd, env: live.shell.env });
  }

  /** The repository's Makefile targets, package.json scripts and Procfile entries, as jobs to offer. */
  async suggestedJobs(user: User, id: string): Promise<EnvSpec['jobs']> {
    const row = await this.ctx.owned(user, id);
    if (row.status !== 'running' && row.status !== 'stopped' && row.status !== 'hibernated') return [];
    try {
      const detection = await this.ctx.options.environments.detect(join(this.workspaceDir(id), 'repo'));
      return detection.spec.jobs;
    } catch {
      return [];
    }
  }

  /** Who owns a workspace, deleted ones included (they still answer their owner as deleted). */
  async ownerOf(id: string): Promise<string | undefined> {
    if (!isUuid(id)) return undefined;
    return (await this.ctx.records.find(id))?.owner_id;
  }

  /** Whether a workspace of this user exists (for telling unknown targets apart). */
  async owns(user: User, id: string): Promise<boolean> {
    if (!isUuid(id)) return false;
    const row = await this.ctx.records.find(id);
    return Boolean(row && row.owner_id === user.id && row.status !== 'deleted');
  }

  /** Brings the store in line with reality after a (re)start (see reconcile). */
  reconcile(): Promise<{ failed: string[]; resumed: string[] }> {
    return reconcile(this.ctx);
  }

  /**
   * This server stops. Running workspaces keep running: their sandboxes and all the agent runs in
   * them stay, and the next start takes them back.
   */
  async shutdown(): Promise<void> {
    await this.ctx.pipelines.cancelAll(new NixSpaceError('INTERRUPTED', 'NixSpace is shutting down'));
    const kept = await this.ctx.sandboxes.releaseAll();
    // The next start mounts the others again; nothing of a stopped workspace stays mounted on the host.
    await this.ctx.options.volumes.unmountAll(kept);
  }

  workspaceDir(id: string): string {
    return this.ctx.workspaceDir(id);
  }

  /** How the proxy reaches a workspace's running IDE (access is checked by the caller). */
  ideSocket(id: string): IdeEndpoint {
    return this.ctx.sandboxes.ideSocket(id);
  }

  /** The socket of the workspace's read-only IDE, started on first use (see viewer-ide). */
  viewerIde(id: string): Promise<IdeEndpoint> {
    return viewerIde(this.ctx, id);
  }

  /** The read-only IDE's socket when it runs (for its WebSockets, which follow a page load). */
  viewerIdeSocket(id: string): IdeEndpoint {
    return viewerIdeSocket(this.ctx, id);
  }

  /** Stops the read-only IDE (its last viewer left); the next viewer starts it again. */
  stopViewerIde(id: string): Promise<void> {
    return stopViewerIde(this.ctx, id);
  }

  /** A workspace for a share link's visit: whoever holds the link sees it, unless it is deleted. */
  async viewShared(id: string): Promise<WorkspaceView> {
    const row = isUuid(id) ? await this.ctx.records.find(id) : undefined;
    if (!row || row.status === 'deleted') {
      throw new NixSpaceError('NOT_FOUND', 'The shared workspace no longer exists');
    }
    return this.ctx.view(row);
  }
}
