// Workspaces: from a Git URL to a running sandbox, as a persisted state machine
// (pending → fetching → building → starting → running ⇄ stopped; failed; deleted).
// Every step is recorded with its timing and streamed to subscribers as it happens.

import { existsSync } from 'node:fs';
import { lstat, mkdir, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import type { Logger } from 'pino';
import type { EnvSpec } from '../../detect/env-spec.js';
import { NixSpaceError, toErrorBody } from '../../errors.js';
import type { CheckoutGit } from '../../git/checkout-git.js';
import type { GitMirrors } from '../../git/mirrors.js';
import { parseRepoUrl } from '../../git/repo-url.js';
import type { RepoUrl, ResolvedRef } from '../../git/source.js';
import type { SourcePolicy } from '../../git/source-policy.js';
import {
  listStashes,
  type SwitchResult,
  switchCheckout,
  type UncommittedPolicy,
} from '../../git/switch-checkout.js';
import type { VolumeOwner, WorkspaceVolumes } from '../../runtime/disk/workspace-volumes.js';
import { giveTree } from '../../runtime/host/give-tree.js';
import { presentIn } from '../../runtime/host/workspace-file.js';
import { RuntimeSandbox } from '../../runtime/runtime-sandbox.js';
import type {
  NetworkPolicy,
  SandboxDriver,
  SandboxLimits,
  SandboxSpec,
  SandboxUser,
} from '../../runtime/sandbox.js';
import { describeSandboxExit } from '../../runtime/sandbox-exit.js';
import {
  findEnvironment,
  insertEnvironmentVersion,
  listEnvironmentVersions,
  ownerUsedEnvironment,
} from '../../store/environment-queries.js';
import type {
  StepName,
  StepRecord,
  WorkspaceEnvironmentRecord,
  WorkspaceRow,
  WorkspaceStatus,
} from '../../store/schema.js';
import type { Store } from '../../store/store.js';
import {
  findWorkspace,
  insertWorkspace,
  listChildWorkspaces,
  listWorkspaces,
  listWorkspacesByStatus,
  updateWorkspace,
  type WorkspacePatch,
} from '../../store/workspace-queries.js';
import type { RefListing } from '../../wire/switching.js';
import type { WorkspaceEvent as WireWorkspaceEvent } from '../../wire/workspaces.js';
import type { User } from '../access/access-service.js';
import type { VerifiedWorkspaceToken } from '../access/workspace-tokens.js';
import type { DependencyInstaller } from '../environments/dependency-installer.js';
import { dependencyEnv, dependencyPath, installPlans } from '../environments/dependency-plan.js';
import {
  applyEnvChanges,
  describeEnvChanges,
  type EnvChanges,
  hasEnvChanges,
  mergeEnvChanges,
  parseEnvChanges,
} from '../environments/env-changes.js';
import type {
  Activation,
  BuiltEnvironment,
  EnvironmentService,
} from '../environments/environment-service.js';
import { diffSpecs, type SpecDiff } from '../environments/spec-diff.js';
import { copyTreeFromBelow } from '../files/copy-tree.js';
import type { IdeStatus } from '../ide/code-server-runner.js';
import type { IdeHandle } from '../ide/ide-supervisor.js';
import type { ServiceStatus } from './backing-services/service-runner.js';
import { describeDetection, describeReport, runnableInstalls, softFailure } from './environment-summary.js';
import type { IdleTracker } from './idle-tracker.js';
import { deadlineFor, defaultLifetimeSettings, type LifetimeSettings } from './lifetime.js';
import {
  discardMemoryImage,
  hibernateSandbox,
  hibernatesWithMemory,
  resumeSandbox,
  withMemoryImages,
} from './memory-hibernation.js';
import { runScript } from './run-script.js';
import { sandboxGit, withShortLivedSandbox } from './sandbox-git.js';
import { type TerminalLimits, WorkspaceTerminals } from './terminals.js';
import { workspaceUser } from './workspace-user.js';
import { pendingSteps, toWorkspaceView, type WorkspaceView } from './workspace-view.js';

export type WorkspaceEvent = WireWorkspaceEvent<WorkspaceEnvironmentRecord>;

export interface WorkspaceServiceOptions {
  store: Store;
  git: GitMirrors;
  /** What repositories may come from; a refused URL is never stored. */
  sources: SourcePolicy;
  driver: SandboxDriver;
  /** Holds one directory per workspace: `<workspacesDir>/<id>/{repo,home}`. */
  workspacesDir: string;
  /** Makes, mounts and removes each workspace's directory: a volume that holds it to the disk limit. */
  volumes: WorkspaceVolumes;
  /** Who owns a new workspace's directory on the host (the server's own user when not given). */
  volumeOwner?: (workspaceId: string) => VolumeOwner | undefined;
  /** Where the git mirrors live: checkouts read their objects from there, read-only. */
  mirrorsDir: string;
  /**
   * Host directories no sandbox may see (the data directory: its keys, database, admin socket and
   * the other workspaces); the workspace's own directory and the mirrors are shown again inside.
   */
  hiddenPaths?: readonly string[];
  /**
   * Runtime directories: `<runDir>/<sandbox id>` is mounted into that sandbox only (the IDE's
   * socket), `<runDir>/host` into none (the server's links to those sockets). Under a hidden path.
   */
  runDir: string;
  limits: SandboxLimits;
  network: NetworkPolicy;
  /** Dependency installs reach package registries even when the workspace itself has no network. */
  installNetwork: NetworkPolicy;
  environments: EnvironmentService;
  installer: DependencyInstaller;
  backingServices: BackingServicesStarter;
  /** Starts the IDE (code-server) of each running workspace; without it workspaces have none. */
  ide?: IdeStarter | undefined;
  /** How many shells a workspace keeps, and how long one nobody is attached to stays. */
  terminals?: TerminalLimits;
  /** The lifetime and idle limits, and what is open in each workspace; without it, none apply. */
  lifetime?: { settings: LifetimeSettings; idle: IdleTracker; now?: () => Date };
  logger: Logger;
}

/** Runs one IDE per running workspace, inside its sandbox. */
export interface IdeStarter {
  /** Host directories the sandbox must see (read-only) for the IDE to run in it. */
  readonly readOnlyPaths: readonly string[];
  start(context: {
    sandbox: RuntimeSandbox;
    workspaceDir: string;
    folder: string;
    env: Record<string, string>;
    stateDir?: string;
    runtimeDir: string;
    hostSocket: string;
    readOnly?: boolean;
    onChange(status: IdeStatus): void;
  }): IdeHandle;
}

/** Where the proxy sends an IDE's requests, and the cookie code-server requires of each. */
export interface IdeEndpoint {
  socketPath: string;
  cookie: string;
}

/** The read-only IDE shown to viewers: its own sandbox, which can write only its own state. */
interface ViewerIde {
  sandbox: RuntimeSandbox;
  ide: IdeHandle;
}

/** The jobs that run in workspaces: a switch asks before it pulls the checkout from under them. */
export interface WorkspaceJobs {
  runningIn(workspaceId: string): { id: string; command: string }[];
  cancelIn(workspaceId: string, why: string): Promise<void>;
}

/** What a switch does with jobs running in the workspace: refuse (the default) or cancel them. */
export type RunningJobsPolicy = 'refuse' | 'cancel';

/** Starts a spec's services (postgres, redis, …) inside a running workspace sandbox. */
export interface BackingServicesStarter {
  start(
    services: EnvSpec['services'],
    context: {
      sandbox: RuntimeSandbox;
      workspaceDir: string;
      env: Record<string, string>;
      network: NetworkPolicy;
      database?: string;
      onLog(service: string, line: string): void;
      signal?: AbortSignal | undefined;
    },
  ): Promise<{
    env: Record<string, string>;
    statuses: readonly ServiceStatus[];
    stop(): Promise<void>;
    release(): Promise<void>;
  }>;
}

/** What a workspace runs with: its environment's activation and the spec it was built from. */
interface WorkspaceSetup {
  activation: Activation | undefined;
  spec: EnvSpec | undefined;
}

interface LiveWorkspace {
  sandbox: RuntimeSandbox;
  /** The unprivileged host user its processes run as (the owner's). */
  user: SandboxUser;
  /** Its repository's mirror, the only one its sandboxes see. */
  mirrorDir: string;
  /** The dependency cache's entries it may restore from (its owner's, its own). */
  cacheDirs: readonly string[];
  terminals: WorkspaceTerminals;
  /** Variables of every shell: base, environment activation, installed tools, services. */
  shell: { argv: string[]; cwd: string; env: Record<string, string> };
  /** Host directories the environment needs seen read-only (toolchains fetched from a registry). */
  toolchainPaths: readonly string[];
  services: { stop(): Promise<void>; release(): Promise<void> } | undefined;
  ide: IdeHandle | undefined;
  viewerIde: Promise<ViewerIde> | undefined;
  viewerIdeReady: ViewerIde | undefined;
  viewerIdeStopping: Promise<void> | undefined;
  stopping: boolean;
}

/** What a step's work returns: `failed` here is a problem the workspace runs with (usable for fixing). */
interface StepResult<T> {
  value: T;
  detail: string | null;
  status?: 'done' | 'skipped' | 'failed';
  log?: string[];
  patch?: WorkspacePatch;
}

export interface EnvironmentVersionView {
  id: string;
  environmentId: string;
  parentEnvironmentId: string | null;
  hash: string;
  provider: string;
  reproducible: boolean;
  commit: string;
  ref: string | null;
  message: string;
  changes: SpecDiff;
  createdAt: string;
}

interface Pipeline {
  abort: AbortController;
  done: Promise<void>;
}

const CREATING: WorkspaceStatus[] = ['pending', 'fetching', 'building', 'starting'];
const LOG_REPLAY_LINES = 200;
const SHELL_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

export class WorkspaceService {
  private readonly live = new Map<string, LiveWorkspace>();
  private readonly pipelines = new Map<string, Pipeline>();
  private readonly listeners = new Map<string, Set<(event: WorkspaceEvent) => void>>();
  private readonly recentLogs = new Map<string, WorkspaceEvent[]>();
  private readonly locks = new Map<string, Promise<unknown>>();
  private readonly pendingViews = new Map<string, ReturnType<typeof setTimeout>>();

  private jobs: WorkspaceJobs | undefined;

  constructor(private readonly options: WorkspaceServiceOptions) {}

  /** Tells the service about jobs (their service is built after this one, on top of it). */
  useJobs(jobs: WorkspaceJobs): void {
    this.jobs = jobs;
  }

  get sandboxDriver(): SandboxDriver {
    return this.options.driver;
  }

  /** Validates the source and starts creating the workspace; progress follows as events. */
  async create(
    user: User,
    input: { repoUrl: string; ref?: string | null | undefined },
  ): Promise<WorkspaceView> {
    const repo = parseRepoUrl(input.repoUrl);
    const ref = normaliseRef(input.ref);
    await this.options.sources.admit(repo);
    const row = await insertWorkspace(this.options.store.db, {
      id: crypto.randomUUID(),
      ownerId: user.id,
      name: repo.displayName,
      repoUrl: repo.url,
      ref,
      steps: pendingSteps(),
      ...this.lifetimeFromNow(),
    });
    const abort = new AbortController();
    const done = this.runCreation(row, repo, ref, abort.signal).finally(() => {
      this.pipelines.delete(row.id);
      this.recentLogs.delete(row.id);
    });
    this.pipelines.set(row.id, { abort, done });
    return this.view(row);
  }

  /** The public view of a row, with the live state only this process knows (the IDE, idleness). */
  private view(row: WorkspaceRow): WorkspaceView {
    const limits = this.options.lifetime;
    return toWorkspaceView(row, this.live.get(row.id)?.ide?.status ?? null, {
      settings: limits?.settings ?? { ...defaultLifetimeSettings, idleTimeoutMs: 0 },
      now: this.now(),
      idleSince: limits?.idle.idleSince(row.id, row.updated_at.getTime()),
    });
  }

  /** The time by the limits' clock. */
  private now(): Date {
    return this.options.lifetime?.now?.() ?? new Date();
  }

  /** A workspace made now: when, and when it is deleted (a lifetime later; never without one). */
  private lifetimeFromNow(): { createdAt: Date; expiresAt: Date | null } {
    const limits = this.options.lifetime;
    const createdAt = this.now();
    return { createdAt, expiresAt: limits ? deadlineFor(createdAt, limits.settings) : null };
  }

  /** The workspace as its owner, or the holder of a workspace token for it (a share link), sees it. */
  async get(user: User | VerifiedWorkspaceToken, id: string): Promise<WorkspaceView> {
    return this.view(await this.owned(user, id));
  }

  async list(user: User): Promise<WorkspaceView[]> {
    return (await listWorkspaces(this.options.store.db, user.id)).map((row) => this.view(row));
  }

  /** Starts a stopped, hibernated or failed (with its files) workspace again. */
  async start(user: User | VerifiedWorkspaceToken, id: string): Promise<WorkspaceView> {
    await this.owned(user, id);
    return this.locked(id, async () => {
      const row = await this.owned(user, id);
      if (row.status === 'running') return this.view(row);
      if (row.status === 'failed') {
        await this.assertRecoverable(row, 'start');
        // What the dead sandbox left (its cgroups, wrappers) goes before a new one starts.
        await this.stopSandbox(id);
        await this.cleanupSandbox(id);
      } else if (row.status !== 'stopped' && row.status !== 'hibernated') {
        throw new NixSpaceError(
          'CONFLICT',
          `Workspace ${row.name} is ${row.status}; only a stopped, hibernated or failed workspace can start`,
        );
      }
      await this.save(id, { status: 'starting', error: null, hibernatedAt: null });
      try {
        await this.mountFiles(id);
        await this.bringUp(row, await this.storedSetup(row), { resume: row.status === 'hibernated' });
        this.startIde(id);
        return this.view(await this.save(id, { status: 'running' }));
      } catch (error) {
        await this.save(id, {
          status: 'failed',
          error: { ...toErrorBody(error), step: 'sandbox', filesKept: true },
        });
        throw error;
      }
    });
  }

  async stop(user: User, id: string): Promise<WorkspaceView> {
    await this.owned(user, id);
    return this.locked(id, async () => {
      const row = await this.owned(user, id);
      if (row.status === 'stopped') return this.view(row);
      // Hibernated is stopped already (or saved, and its image goes): now it stays so, and
      // opening it no longer starts it.
      if (row.status === 'hibernated') {
        await discardMemoryImage(this.options.driver, id, this.agentDir(id));
        return this.view(await this.save(id, { status: 'stopped', hibernatedAt: null }));
      }
      if (row.status === 'failed') {
        await this.assertRecoverable(row, 'stop');
        await this.stopSandbox(id);
        await this.cleanupSandbox(id);
        // Stopped, with the reason it failed kept until it starts again.
        return this.view(await this.save(id, { status: 'stopped' }));
      }
      if (row.status !== 'running') {
        throw new NixSpaceError(
          'CONFLICT',
          `Workspace ${row.name} is ${row.status}; only a running or failed workspace can stop`,
        );
      }
      await this.stopSandbox(id);
      return this.view(await this.save(id, { status: 'stopped' }));
    });
  }

  /**
   * A failed workspace with its checkout (its sandbox died, or a start or resume failed) can start
   * and stop again; a failed creation left no files and keeps its reason.
   */
  private async assertRecoverable(row: WorkspaceRow, action: 'start' | 'stop'): Promise<void> {
    if (row.commit_id !== null && (await this.hasCheckout(row.id))) return;
    const why = (row.error as { message?: string } | null)?.message ?? 'no reason was recorded';
    throw new NixSpaceError(
      'CONFLICT',
      `Workspace ${row.name} failed while being created (${why}) and has no files to ${action}: delete it and create it again`,
    );
  }

  /** The checkout is there (looked at without following a link the sandbox may have planted). */
  private async hasCheckout(id: string): Promise<boolean> {
    return lstat(join(this.workspaceDir(id), 'repo')).then(
      (stat) => stat.isDirectory(),
      () => false,
    );
  }

  /** Removes the workspace's sandbox and files; creation in progress is cancelled first. */
  async delete(user: User, id: string): Promise<void> {
    await this.owned(user, id);
    const pipeline = this.pipelines.get(id);
    if (pipeline) {
      pipeline.abort.abort(new NixSpaceError('INTERRUPTED', 'The workspace was deleted while being created'));
      await pipeline.done;
    }
    await this.locked(id, () => this.destroy(id));
  }

  /** What a delete does, under the workspace's lock: its sandbox and its files go. */
  private async destroy(id: string): Promise<void> {
    await this.stopSandbox(id);
    await discardMemoryImage(this.options.driver, id, this.agentDir(id));
    await this.removeFiles(id);
    await this.save(id, { status: 'deleted', sandbox: null });
    this.options.lifetime?.idle.forget(id);
  }

  /**
   * Keeps the workspace past its lifetime: it has no deadline any more. Its owner's only; under its
   * lock, so a keep either comes before an expiry (which then spares it) or finds it deleted.
   */
  async keep(user: User, id: string): Promise<WorkspaceView> {
    await this.owned(user, id);
    return this.locked(id, async () => {
      const row = await this.owned(user, id);
      if (row.status === 'deleted') throw new NixSpaceError('NOT_FOUND', `Workspace ${id} was deleted`);
      if (row.expires_at === null) return this.view(row);
      return this.view(await this.save(id, { expiresAt: null, keptAt: this.now() }));
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
   * files stay, and opening it starts it again. Its processes stop, unless the driver saves the
   * sandbox with its memory (memory-hibernation.ts): then what ran in it is let go of as at a
   * server restart, and taken back when it resumes.
   */
  async hibernate(id: string, decide: (row: WorkspaceRow) => boolean): Promise<boolean> {
    return this.atRest(
      id,
      (row) => row.status === 'running' && decide(row),
      async () => {
        const live = this.live.get(id);
        if (live && hibernatesWithMemory(this.options.driver)) {
          await this.release(id, live, { keepAgent: true });
          await hibernateSandbox(live.sandbox, this.options.logger);
          await this.save(id, { sandbox: null });
        } else await this.stopSandbox(id);
        await this.save(id, { status: 'hibernated', hibernatedAt: this.now() });
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
    if (this.pipelines.has(id)) return false;
    return this.locked(id, async () => {
      const row = await findWorkspace(this.options.store.db, id);
      if (!row || this.pipelines.has(id) || !decide(row)) return false;
      await act();
      return true;
    });
  }

  /** Opening a hibernated workspace (a terminal, its IDE) starts it again; any other stays as it is. */
  async resume(actor: User | VerifiedWorkspaceToken, id: string): Promise<void> {
    if ((await this.owned(actor, id)).status === 'hibernated') await this.start(actor, id);
  }

  /**
   * Moves a running workspace to another branch, tag or commit in place. The git part (resolve,
   * fetch, check out) happens before this returns: an unknown ref or uncommitted work that the
   * policy does not allow to move fails here with nothing changed. Then the environment follows
   * as progress events: re-detect, build or reuse by hash, and when the environment changed,
   * restart the sandbox (its shells and services) with the new one; dependencies come from the
   * cache. Files are never recreated.
   */
  async switchRef(
    user: User,
    id: string,
    input: {
      ref: string;
      uncommitted?: UncommittedPolicy | null | undefined;
      jobs?: RunningJobsPolicy | null | undefined;
    },
  ): Promise<{ workspace: WorkspaceView; switched: SwitchResult }> {
    const ref = normaliseRef(input.ref);
    if (ref === null) throw new NixSpaceError('BAD_REQUEST', 'Name the branch, tag or commit to switch to');
    await this.owned(user, id);
    return this.locked(id, async () => {
      const row = await this.owned(user, id);
      if (row.status !== 'running' || !this.live.has(id)) {
        throw new NixSpaceError(
          'CONFLICT',
          `Workspace ${row.name} is ${row.status}; only a running workspace can switch`,
        );
      }
      // Jobs would lose their files (and, when the environment changes, their sandbox) mid-run.
      const running = this.jobs?.runningIn(id) ?? [];
      if (running.length > 0 && (input.jobs ?? 'refuse') === 'refuse') {
        const names = running.map((job) => job.command).join(', ');
        throw new NixSpaceError(
          'JOBS_RUNNING',
          `${running.length === 1 ? 'A job is' : `${running.length} jobs are`} running in ${row.name} (${names}); wait for ${running.length === 1 ? 'it' : 'them'} to finish, or switch with jobs: "cancel"`,
        );
      }
      const repo = parseRepoUrl(row.repo_url);
      const abort = new AbortController();
      const signal = abort.signal;
      const steps = pendingSteps();
      const timed = async <T>(name: StepName, fn: () => Promise<{ value: T; detail: string }>) => {
        const step = steps.find((st) => st.name === name)!;
        const started = performance.now();
        step.startedAt = new Date().toISOString();
        const { value, detail } = await fn();
        step.status = 'done';
        step.finishedAt = new Date().toISOString();
        step.durationMs = Math.round(performance.now() - started);
        step.detail = detail;
        return value;
      };
      // Nothing is recorded until the checkout succeeded: a refused switch leaves the row as it was.
      const resolved = await timed('resolve', async () => {
        const value = await this.options.git.resolveRef(repo, ref, { signal });
        return { value, detail: `${value.refName ?? 'commit'} → ${value.commit.slice(0, 12)}` };
      });
      if (running.length > 0)
        await this.jobs?.cancelIn(id, `cancelled: the workspace is switching to ${ref}`);
      await timed('fetch', async () => {
        const fetched = await this.options.git.fetch(repo, {
          commit: resolved.commit,
          advertised: resolved.provisional !== true,
          signal,
          onProgress: (line) => this.log(id, 'fetch', line),
        });
        resolved.commit = fetched.commit ?? resolved.commit;
        return { value: undefined, detail: `mirror ${formatBytes(fetched.sizeBytes)}` };
      });
      const switched = await timed('checkout', async () => {
        const value = await this.checkoutGit(id, signal, (git) =>
          switchCheckout({ git, resolved, label: ref, uncommitted: input.uncommitted ?? 'refuse' }),
        );
        const parts = [value.branch ? `branch ${value.branch}` : 'detached HEAD'];
        if (value.stash) parts.push(`${value.uncommitted.length} changed files stashed as "${value.stash}"`);
        else if (value.uncommitted.length)
          parts.push(`${value.uncommitted.length} changed files carried over`);
        if (value.note) parts.push(value.note);
        return { value, detail: parts.join('; ') };
      });
      const saved = await this.save(id, {
        status: 'switching',
        ref,
        commitId: switched.commit,
        branch: switched.branch,
        steps,
        error: null,
      });
      const done = this.finishSwitch(saved, steps, abort.signal).finally(() => {
        this.pipelines.delete(id);
        this.recentLogs.delete(id);
      });
      this.pipelines.set(id, { abort, done });
      return { workspace: this.view(saved), switched };
    });
  }

  /** The environment half of a switch, streamed as steps like creation. */
  private async finishSwitch(row: WorkspaceRow, steps: StepRecord[], signal: AbortSignal): Promise<void> {
    const id = row.id;
    const run = this.stepRunner(id, steps, signal);
    const repoDir = join(this.workspaceDir(id), 'repo');
    const previous = row.environment;
    await this.locked(id, async () => {
      try {
        const detection = await run('detect', 'switching', async () => this.detectWithChanges(row, repoDir));
        const spec = detection.spec;
        const built = await run('build', 'switching', () =>
          this.buildStep(id, spec, repoDir, detection.diagnostics, signal, row.environment_id),
        );
        const changed = built === undefined || previous?.hash !== built.row.hash;
        if (built && changed) {
          await this.recordVersion(row, built, spec, {
            commit: row.commit_id ?? '',
            previousEnvironmentId: row.environment_id,
            message: `switched to ${row.ref ?? row.commit_id?.slice(0, 12)}`,
          });
        }
        await run('sandbox', 'switching', async () => {
          if (!changed) return { value: undefined, status: 'skipped', detail: 'environment unchanged' };
          // Shells and services start from the environment: restart them with the new one.
          await this.stopSandbox(id);
          await this.bringUp(row, { activation: built?.activation, spec: undefined });
          return { value: undefined, detail: 'restarted with the new environment' };
        });
        await run('install', 'switching', () => this.installStep(id, spec, built, signal));
        await run('services', 'switching', async () => {
          if (!changed && this.live.get(id)?.services) {
            return { value: undefined, status: 'skipped', detail: 'environment unchanged; services kept' };
          }
          return this.servicesStep(row, spec, built, signal);
        });
        await run('ready', 'running', async () => {
          // A restarted sandbox starts its IDE again, with the new environment.
          this.startIde(id);
          return { value: undefined, detail: null, patch: { status: 'running' } };
        });
      } catch (caught) {
        const error = signal.aborted ? signal.reason : caught;
        const step = steps.find((st) => st.status === 'running');
        if (step) {
          step.status = 'failed';
          step.finishedAt = new Date().toISOString();
        }
        if (!(error instanceof NixSpaceError)) {
          this.options.logger.error({ err: error, workspace: id }, 'workspace switch failed');
        }
        // The files stay: a failed switch keeps the checkout, stopped with the reason, to start again.
        await this.stopSandbox(id).catch(() => {});
        const body = toErrorBody(error);
        await this.save(id, {
          status: 'stopped',
          steps,
          error: step ? { ...body, step: step.name } : body,
        }).catch(() => {});
      }
    });
  }

  /** Branches, tags and recent commits the workspace can switch to (refreshing the mirror first). */
  async refs(user: User, id: string): Promise<RefListing> {
    const row = await this.owned(user, id);
    const repo = parseRepoUrl(row.repo_url);
    // A fetch keeps the list current; offline, the mirror's last state is still worth showing.
    await this.options.git
      .fetch(repo, {})
      .catch((error: unknown) =>
        this.options.logger.warn({ err: error, workspace: id }, 'could not refresh the mirror'),
      );
    return this.options.git.listRefs(repo);
  }

  /** The environments a workspace has run with, newest first, each with what it changed. */
  async versions(user: User, id: string): Promise<EnvironmentVersionView[]> {
    await this.owned(user, id);
    const rows = await listEnvironmentVersions(this.options.store.db, id);
    return rows.map((v) => ({
      id: v.id,
      environmentId: v.environment_id,
      parentEnvironmentId: v.parent_environment_id,
      hash: v.hash,
      provider: v.provider,
      reproducible: v.reproducible,
      commit: v.commit_id,
      ref: v.ref,
      message: v.message,
      changes: v.changes as SpecDiff,
      createdAt: new Date(v.created_at).toISOString(),
    }));
  }

  /**
   * What changed from one environment to another, for any two that the user's workspaces have run
   * with (versions of one workspace, or of a workspace and its branch).
   */
  async diffEnvironments(
    user: User,
    fromId: string,
    toId: string,
  ): Promise<SpecDiff & { from: { id: string; hash: string }; to: { id: string; hash: string } }> {
    const db = this.options.store.db;
    const load = async (environmentId: string) => {
      const row = isUuid(environmentId) ? await findEnvironment(db, environmentId) : undefined;
      if (!row || !(await ownerUsedEnvironment(db, user.id, row.id))) {
        throw new NixSpaceError('NOT_FOUND', `Environment ${environmentId} does not exist`);
      }
      return row;
    };
    const [from, to] = [await load(fromId), await load(toId)];
    return {
      ...diffSpecs(from.spec as EnvSpec, to.spec as EnvSpec),
      from: { id: from.id, hash: from.hash },
      to: { id: to.id, hash: to.hash },
    };
  }

  /**
   * Returns a running workspace to an earlier environment version in one step: a switch to the
   * commit it ran at, whose environment comes from the cache by hash.
   */
  async rollback(
    user: User,
    id: string,
    input: {
      versionId: string;
      uncommitted?: UncommittedPolicy | null | undefined;
      jobs?: RunningJobsPolicy | null | undefined;
    },
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

  /**
   * Branches a workspace: a new workspace whose parent is this one, starting from its files (a
   * copy-on-write copy where the filesystem allows, uncommitted work included) and, with `ref`,
   * moved to that branch, tag or commit. Its environment is built (or reused by hash) as a child
   * of the parent's, and recorded with what changed. Progress streams like creation.
   */
  async branch(
    user: User,
    id: string,
    input: { ref?: string | null | undefined; changes?: unknown },
  ): Promise<WorkspaceView> {
    // Bad changes are refused before anything exists.
    const asked =
      input.changes === undefined || input.changes === null ? undefined : parseEnvChanges(input.changes);
    const source = await this.owned(user, id);
    if (!['running', 'stopped', 'hibernated'].includes(source.status) || !source.commit_id) {
      throw new NixSpaceError(
        'CONFLICT',
        `Workspace ${source.name} is ${source.status}; only a running, stopped or hibernated workspace can be branched`,
      );
    }
    const ref = normaliseRef(input.ref);
    const repo = parseRepoUrl(source.repo_url);
    const row = await insertWorkspace(this.options.store.db, {
      id: crypto.randomUUID(),
      ownerId: user.id,
      name: source.name,
      repoUrl: source.repo_url,
      ref: ref ?? source.ref,
      steps: pendingSteps(),
      ...this.lifetimeFromNow(),
      parentId: source.id,
      // A branch keeps the changes of the workspace it came from, with its own on top.
      environmentChanges: asked
        ? mergeEnvChanges(source.environment_changes as EnvChanges | null, asked)
        : source.environment_changes,
    });
    const abort = new AbortController();
    const done = this.runCreation(row, repo, ref, abort.signal, source).finally(() => {
      this.pipelines.delete(row.id);
      this.recentLogs.delete(row.id);
    });
    this.pipelines.set(row.id, { abort, done });
    return this.view(row);
  }

  /** Where a workspace sits in its family: the workspace it was branched from, and its branches. */
  async lineage(
    user: User,
    id: string,
  ): Promise<{ parent: WorkspaceView | null; children: WorkspaceView[] }> {
    const row = await this.owned(user, id);
    const db = this.options.store.db;
    const parent = row.parent_id ? await findWorkspace(db, row.parent_id) : undefined;
    const children = await listChildWorkspaces(db, row.id);
    return {
      parent: parent && parent.owner_id === user.id && parent.status !== 'deleted' ? this.view(parent) : null,
      children: children.filter((c) => c.owner_id === user.id).map((c) => this.view(c)),
    };
  }

  /** Stashes in the workspace's repository, newest first (switching can create them). */
  async stashes(user: User, id: string): Promise<{ ref: string; message: string }[]> {
    await this.owned(user, id);
    // A workspace whose files are gone (a failed creation, a deleted workspace) has none.
    if (!(await presentIn(this.workspaceDir(id), 'repo/.git'))) return [];
    return this.checkoutGit(id, undefined, listStashes);
  }

  /** Follows a workspace: the current state first, then every change and step log line. */
  async subscribe(
    user: User | VerifiedWorkspaceToken,
    id: string,
    listener: (event: WorkspaceEvent) => void,
  ): Promise<() => void> {
    const row = await this.owned(user, id);
    listener({ type: 'workspace', workspace: this.view(row) });
    for (const event of this.recentLogs.get(id) ?? []) listener(event);
    let set = this.listeners.get(id);
    if (!set) {
      set = new Set();
      this.listeners.set(id, set);
    }
    set.add(listener);
    return () => {
      set.delete(listener);
      if (set.size === 0 && this.listeners.get(id) === set) this.listeners.delete(id);
    };
  }

  /** The terminals of a running workspace. */
  async terminals(user: User | VerifiedWorkspaceToken, id: string): Promise<WorkspaceTerminals> {
    await this.resume(user, id);
    const row = await this.owned(user, id);
    const live = this.live.get(id);
    if (row.status !== 'running' || !live) {
      throw new NixSpaceError(
        'CONFLICT',
        `Workspace ${row.name} is ${row.status}; start it to open a terminal`,
      );
    }
    return live.terminals;
  }

  /**
   * Where a job of a running workspace runs: its sandbox, the repository as working directory and
   * the environment every shell of the workspace gets. Read on each call, so jobs started after
   * the services came up see their connection settings.
   */
  async jobShell(
    user: User,
    id: string,
  ): Promise<{
    name: string;
    shell: () => { sandbox: RuntimeSandbox; cwd: string; env: Record<string, string> };
  }> {
    await this.resume(user, id);
    const row = await this.owned(user, id);
    const live = this.live.get(id);
    if (row.status !== 'running' || !live) {
      throw new NixSpaceError('CONFLICT', `Workspace ${row.name} is ${row.status}; start it to run a job`);
    }
    return {
      name: row.name,
      shell: () => ({ sandbox: live.sandbox, cwd: live.shell.cwd, env: live.shell.env }),
    };
  }

  /** A running workspace's job shell, for jobs that ran on through a server restart. */
  liveJobShell(
    id: string,
  ): (() => { sandbox: RuntimeSandbox; cwd: string; env: Record<string, string> }) | undefined {
    const live = this.live.get(id);
    if (!live) return undefined;
    return () => ({ sandbox: live.sandbox, cwd: live.shell.cwd, env: live.shell.env });
  }

  /** The repository's Makefile targets, package.json scripts and Procfile entries, as jobs to offer. */
  async suggestedJobs(user: User, id: string): Promise<EnvSpec['jobs']> {
    const row = await this.owned(user, id);
    if (row.status !== 'running' && row.status !== 'stopped' && row.status !== 'hibernated') return [];
    try {
      const detection = await this.options.environments.detect(join(this.workspaceDir(id), 'repo'));
      return detection.spec.jobs;
    } catch {
      return [];
    }
  }

  /** Who owns a workspace, deleted ones included (they still answer their owner as deleted). */
  async ownerOf(id: string): Promise<string | undefined> {
    if (!isUuid(id)) return undefined;
    return (await findWorkspace(this.options.store.db, id))?.owner_id;
  }

  /** Whether a workspace of this user exists (for telling unknown targets apart). */
  async owns(user: User, id: string): Promise<boolean> {
    if (!isUuid(id)) return false;
    const row = await findWorkspace(this.options.store.db, id);
    return Boolean(row && row.owner_id === user.id && row.status !== 'deleted');
  }

  /**
   * Brings the store in line with reality after a (re)start: creations that were cut off fail
   * with a reason, workspaces that were running (or starting) get their sandbox back, and what
   * the sandboxes of failed ones left is cleared so that they can start again.
   */
  async reconcile(): Promise<{ failed: string[]; resumed: string[] }> {
    const db = this.options.store.db;
    // Files stay mounted while a workspace exists: stopped ones too (a branch or a start reads them).
    for (const row of await listWorkspacesByStatus(db, ['stopped', 'hibernated', 'failed'])) {
      await this.mountFiles(row.id).catch((error: unknown) =>
        this.options.logger.error(
          { err: error, workspace: row.id },
          "could not mount the workspace's volume",
        ),
      );
    }
    const rows = await listWorkspacesByStatus(db, [...CREATING, 'running', 'switching', 'failed']);
    const failed: string[] = [];
    const resumed: string[] = [];
    for (const row of rows) {
      // A running workspace's sandbox outlives the server: it is taken back below if it still runs.
      if (row.status !== 'running') await this.cleanupSandbox(row.id);
      if (row.status === 'failed') continue;
      // `starting` is also the status of a start of a stopped workspace: one whose creation had
      // finished keeps its files and resumes.
      const created = (row.steps as StepRecord[]).some((s) => s.name === 'ready' && s.status === 'done');
      if (row.status === 'running' || row.status === 'switching' || (row.status === 'starting' && created)) {
        try {
          await this.mountFiles(row.id);
          // A switch cut off keeps its checkout; the workspace resumes with the last stored environment.
          await this.bringUp(row, await this.storedSetup(row), { adopt: row.status === 'running' });
          if (row.status !== 'running') await this.save(row.id, { status: 'running' });
          this.startIde(row.id);
          // A VS Code still running is taken back before anyone asks: its open pages reconnect to
          // it instead of loading a new one. (One that must start anew is not waited for long.)
          const ide = this.live.get(row.id)?.ide;
          if (row.status === 'running' && ide) await Promise.race([ide.ready, delay(3000)]);
          resumed.push(row.id);
          continue;
        } catch (error) {
          this.options.logger.error({ err: error, workspace: row.id }, 'could not resume workspace');
          await this.save(row.id, {
            status: 'failed',
            error: { ...toErrorBody(error), step: 'sandbox', filesKept: true },
          });
          failed.push(row.id);
          continue;
        }
      }
      await this.removeFiles(row.id);
      const steps = (row.steps as StepRecord[]).map((step) =>
        step.status === 'running' ? { ...step, status: 'failed' as const } : step,
      );
      await this.save(row.id, {
        status: 'failed',
        steps,
        error: {
          code: 'INTERRUPTED',
          message: `NixSpace stopped while this workspace was ${row.status}; delete it and create it again`,
          ...(steps.find((s) => s.status === 'failed')
            ? { step: steps.find((s) => s.status === 'failed')!.name }
            : {}),
        },
      });
      failed.push(row.id);
    }
    const hibernated = (await listWorkspacesByStatus(db, ['hibernated'])).map((row) => row.id);
    const saved = await withMemoryImages(this.options.driver, hibernated);
    await this.endOrphanSandboxes(new Set([...resumed, ...saved]));
    return { failed, resumed };
  }

  /** Ends the agent sandboxes left running for workspaces that no longer run (deleted, say). */
  private async endOrphanSandboxes(running: ReadonlySet<string>): Promise<void> {
    const dir = join(this.options.runDir, 'agents');
    for (const id of await readdir(dir).catch(() => [] as string[])) {
      const workspaceId = id.replace(/-(viewer|install|git)$/, '');
      if (running.has(id) || !isUuid(workspaceId)) continue;
      await this.cleanupSandbox(id).catch((error: unknown) =>
        this.options.logger.warn({ err: error, sandbox: id }, 'could not end a sandbox left running'),
      );
      await rm(join(dir, id), { recursive: true, force: true });
    }
  }

  /** Kills what an earlier server left of sandbox `id`, its agent's sandbox included. */
  private cleanupSandbox(id: string): Promise<void> {
    return this.options.driver.cleanup(id, { agentDir: this.agentDir(id) });
  }

  /**
   * This server stops. Running workspaces keep running: their sandboxes and all the agent runs in
   * them stay, and the next start takes them back.
   */
  async shutdown(): Promise<void> {
    for (const pipeline of this.pipelines.values()) {
      pipeline.abort.abort(new NixSpaceError('INTERRUPTED', 'NixSpace is shutting down'));
    }
    await Promise.allSettled([...this.pipelines.values()].map((p) => p.done));
    const kept = new Set<string>();
    await Promise.allSettled(
      [...this.live.entries()].map(async ([id, live]) => {
        kept.add(this.workspaceDir(id));
        return this.release(id, live);
      }),
    );
    // The next start mounts the others again; nothing of a stopped workspace stays mounted on the host.
    await this.options.volumes.unmountAll(kept);
  }

  /**
   * Lets go of a running workspace without stopping it: the agent keeps running its shells, jobs,
   * VS Code and services. Its read-only IDE stops (the next server starts it on demand).
   */
  private async release(
    id: string,
    live: LiveWorkspace,
    options: { keepAgent?: boolean } = {},
  ): Promise<void> {
    live.stopping = true;
    this.live.delete(id);
    live.terminals.releaseAll();
    live.ide?.release();
    await Promise.allSettled([
      live.viewerIde?.then(async (viewer) => {
        await viewer.ide.stop();
        await viewer.sandbox.stop();
      }),
      live.services?.release(),
    ]);
    if (!options.keepAgent) await live.sandbox.agent.close({ removeSocket: false });
  }

  workspaceDir(id: string): string {
    return join(this.options.workspacesDir, id);
  }

  /** The runtime directory only sandbox `sandboxId` mounts, made empty for a new start. */
  private async runtimeDir(sandboxId: string, user: SandboxUser): Promise<string> {
    const dir = join(this.options.runDir, sandboxId);
    await rm(dir, { recursive: true, force: true });
    await mkdir(dir, { recursive: true, mode: 0o700 });
    // The sandbox's programs (code-server making its socket) are its user, never root.
    await giveTree(dir, user);
    return dir;
  }

  /** The server's directory for the socket sandbox `sandboxId`'s agent dials; that sandbox sees it read-only. */
  private agentDir(sandboxId: string): string {
    return join(this.options.runDir, 'agents', sandboxId);
  }

  /** Where the server links sandbox `sandboxId`'s IDE socket, in a directory no sandbox mounts. */
  private hostSocket(sandboxId: string): string {
    return join(this.options.runDir, 'host', `${sandboxId}.sock`);
  }

  private async runCreation(
    row: WorkspaceRow,
    repo: RepoUrl,
    ref: string | null,
    signal: AbortSignal,
    /** A branch starts from this workspace's files and environment instead of a fresh clone. */
    source?: WorkspaceRow,
  ): Promise<void> {
    const id = row.id;
    const steps = pendingSteps();
    const dir = this.workspaceDir(id);
    const run = this.stepRunner(id, steps, signal);

    try {
      const resolved: ResolvedRef = await run('resolve', 'fetching', async () => {
        if (source && ref === null) {
          // A branch without a ref starts where its source is.
          const value: ResolvedRef = {
            commit: source.commit_id ?? '',
            refName: source.ref ?? undefined,
            branch: source.branch ?? undefined,
          };
          return { value, detail: `${source.name} at ${value.commit.slice(0, 12)}` };
        }
        const value = await this.options.git.resolveRef(repo, ref ?? undefined, { signal });
        return { value, detail: `${value.refName ?? 'commit'} → ${value.commit.slice(0, 12)}` };
      });
      await run('fetch', 'fetching', async () => {
        const fetched = await this.options.git.fetch(repo, {
          commit: resolved.commit,
          advertised: resolved.provisional !== true,
          signal,
          onProgress: (line) => this.log(id, 'fetch', line),
        });
        const commit = fetched.commit ?? resolved.commit;
        resolved.commit = commit;
        return {
          value: undefined,
          detail: `mirror ${formatBytes(fetched.sizeBytes)}`,
          patch: { commitId: commit, branch: resolved.branch ?? null },
        };
      });
      await run('checkout', 'fetching', async () => {
        if (source)
          return { value: undefined, detail: await this.branchFiles(source, row, resolved, ref, signal) };
        await this.makeWorkspaceDir(id);
        await mkdir(join(dir, 'home'), { recursive: true });
        await this.options.git
          .checkout(repo, resolved, join(dir, 'repo'), { signal })
          .catch((error: unknown) => this.failIfFull(error, `the checkout of ${repo.displayName}`));
        // The files become the workspace user's before any sandbox can write them.
        await giveTree(dir, workspaceUser(row.owner_id));
        return { value: undefined, detail: resolved.branch ? `branch ${resolved.branch}` : 'detached HEAD' };
      });
      const repoDir = join(dir, 'repo');
      const detection = await run('detect', 'building', async () => this.detectWithChanges(row, repoDir));
      const spec = detection.spec;
      const parentEnvironmentId = source?.environment_id ?? null;
      const built = await run('build', 'building', () =>
        this.buildStep(id, spec, repoDir, detection.diagnostics, signal, parentEnvironmentId),
      );
      if (built) {
        const at = ref ?? resolved.branch ?? resolved.commit.slice(0, 12);
        await this.recordVersion(row, built, spec, {
          commit: resolved.commit,
          previousEnvironmentId: parentEnvironmentId,
          message: source ? `branched from ${source.name} at ${at}` : `created at ${at}`,
        });
      }
      await run('sandbox', 'starting', async () => {
        await this.bringUp(row, { activation: built?.activation, spec: undefined });
        const driver = this.options.driver;
        return {
          value: undefined,
          detail: `${driver.name}${driver.capabilities.isolation ? '' : ' (not isolated)'}`,
        };
      });
      await run('install', 'starting', () => this.installStep(id, spec, built, signal));
      await run('services', 'starting', () => this.servicesStep(row, spec, built, signal));
      await run('ready', 'running', async () => {
        this.startIde(id);
        return { value: undefined, detail: null, patch: { status: 'running' } };
      });
    } catch (caught) {
      const error = signal.aborted ? signal.reason : caught;
      const step = steps.find((s) => s.status === 'running');
      if (step) {
        step.status = 'failed';
        step.finishedAt = new Date().toISOString();
        step.durationMs = step.startedAt ? Date.now() - Date.parse(step.startedAt) : null;
      }
      if (!(error instanceof NixSpaceError)) {
        this.options.logger.error(
          { err: error, workspace: id, step: step?.name },
          'workspace creation failed',
        );
      }
      // A failed creation leaves nothing behind: no sandbox, no processes, no checkout.
      await this.stopSandbox(id).catch(() => {});
      await this.removeFiles(id);
      const body = toErrorBody(error);
      await this.save(id, {
        status: 'failed',
        steps,
        error: step ? { ...body, step: step.name } : body,
      }).catch((saveError: unknown) =>
        this.options.logger.error({ err: saveError, workspace: id }, 'could not record failure'),
      );
    }
  }

  /** The files of a branch: the source's checkout and home, then the ref the branch asked for. */
  private async branchFiles(
    source: WorkspaceRow,
    row: WorkspaceRow,
    resolved: ResolvedRef,
    ref: string | null,
    signal: AbortSignal,
  ): Promise<string> {
    const from = this.workspaceDir(source.id);
    const to = this.workspaceDir(row.id);
    await this.makeWorkspaceDir(row.id);
    let copyOnWrite = true;
    // The parent's tree is its sandbox's to rearrange: it is copied from below the parent's
    // directory, never through a symlink (a `repo` or `home` that is one is not copied).
    for (const part of ['repo', 'home']) {
      signal.throwIfAborted();
      const copied = await copyTreeFromBelow(from, part, join(to, part)).catch((error: unknown) =>
        this.failIfFull(error, `the files of ${source.name}`),
      );
      if (!copied && part === 'repo')
        throw new NixSpaceError(
          'CONFLICT',
          `The checkout of ${source.name} is not a directory: it cannot be branched`,
        );
      copyOnWrite &&= copied === 'copy-on-write';
    }
    // The installed dependencies came along with the files: so does the server's record of what
    // they are, and an unchanged install is not run again in the branch.
    await this.options.installer.copyRecord(source.id, row.id);
    // The copy becomes the workspace user's before its git (in a sandbox as that user) or anything
    // else of the branch's runs in it.
    await giveTree(to, workspaceUser(row.owner_id));
    const parts = [`files of ${source.name} ${copyOnWrite ? 'cloned copy-on-write' : 'copied'}`];
    if (ref !== null && resolved.commit !== source.commit_id) {
      // The branch owns the copied work: bring it along, or keep it in a stash if it clashes.
      const switched = await this.checkoutGit(row.id, signal, async (git) => {
        const request = { git, resolved, label: ref };
        return switchCheckout({ ...request, uncommitted: 'carry' }).catch((error: unknown) => {
          if (error instanceof NixSpaceError && error.code === 'UNCOMMITTED_CHANGES') {
            return switchCheckout({ ...request, uncommitted: 'stash' });
          }
          throw error;
        });
      });
      parts.push(switched.branch ? `branch ${switched.branch}` : 'detached HEAD');
      if (switched.stash) parts.push(`uncommitted work stashed as "${switched.stash}"`);
      else if (switched.uncommitted.length)
        parts.push(`${switched.uncommitted.length} changed files carried over`);
    }
    return parts.join('; ');
  }

  /**
   * Runs git on the workspace's checkout inside its sandbox: the running one, or, while the
   * workspace is stopped (or a branch's is not started yet), a short-lived one over the same files
   * that sees the mirrors the checkout borrows its objects from.
   */
  private async checkoutGit<T>(
    id: string,
    signal: AbortSignal | undefined,
    work: (git: CheckoutGit) => Promise<T>,
  ): Promise<T> {
    const repoDir = join(this.workspaceDir(id), 'repo');
    const options = { timeoutMs: this.options.git.timeoutMs, signal };
    const live = this.live.get(id);
    if (live && !live.stopping) return work(sandboxGit(live.sandbox, repoDir, options));
    const row = await findWorkspace(this.options.store.db, id);
    if (!row) throw new NixSpaceError('NOT_FOUND', `Workspace ${id} not found`);
    const spec: SandboxSpec = {
      id: `${id}-git`,
      user: workspaceUser(row.owner_id),
      workspaceDir: this.workspaceDir(id),
      agentDir: this.agentDir(`${id}-git`),
      readOnlyPaths: [this.mirrorOf(row)],
      hiddenPaths: this.options.hiddenPaths ?? [],
      network: this.networkFor('none'),
      limits: this.options.limits,
      hostname: `ws-${id.slice(0, 8)}`,
    };
    return withShortLivedSandbox(
      this.options.driver,
      spec,
      (sandbox) => work(sandboxGit(sandbox, repoDir, options)),
      signal,
    );
  }

  /** Detects the checkout's needs, with the branch's own environment changes over them. */
  private async detectWithChanges(row: WorkspaceRow, repoDir: string) {
    const value = await this.options.environments.detect(repoDir);
    const changes = row.environment_changes as EnvChanges | null;
    if (!hasEnvChanges(changes)) return { value, detail: describeDetection(value) };
    const changed = { ...value, spec: applyEnvChanges(value.spec, changes) };
    return {
      value: changed,
      detail: `${describeDetection(changed)}; branch changes: ${describeEnvChanges(changes)}`,
    };
  }

  /** Records a new environment version of the workspace, with its diff against the previous one. */
  private async recordVersion(
    row: Pick<WorkspaceRow, 'id' | 'ref'>,
    built: BuiltEnvironment,
    spec: EnvSpec,
    at: { commit: string; previousEnvironmentId: string | null; message: string },
  ): Promise<void> {
    const db = this.options.store.db;
    const previous = at.previousEnvironmentId
      ? await findEnvironment(db, at.previousEnvironmentId)
      : undefined;
    await insertEnvironmentVersion(db, {
      id: crypto.randomUUID(),
      workspaceId: row.id,
      environmentId: built.row.id,
      parentEnvironmentId: previous?.id ?? null,
      commitId: at.commit,
      ref: row.ref,
      message: at.message,
      changes: diffSpecs(previous?.spec as EnvSpec | undefined, spec),
    }).catch((error: unknown) =>
      this.options.logger.warn({ err: error, workspace: row.id }, 'could not record the environment version'),
    );
  }

  /** Records each step's status, timing and result as it runs, and streams it to subscribers. */
  private stepRunner(id: string, steps: StepRecord[], signal: AbortSignal) {
    return async <T>(
      name: StepName,
      status: WorkspaceStatus,
      fn: () => Promise<StepResult<T>>,
    ): Promise<T> => {
      signal.throwIfAborted();
      const step = steps.find((s) => s.name === name)!;
      const started = performance.now();
      step.status = 'running';
      step.startedAt = new Date().toISOString();
      await this.save(id, { status, steps });
      const result = await fn();
      step.status = result.status ?? 'done';
      step.finishedAt = new Date().toISOString();
      step.durationMs = Math.round(performance.now() - started);
      step.detail = result.detail;
      if (result.log?.length) step.log = result.log;
      await this.save(id, { steps, ...result.patch });
      return result.value;
    };
  }

  private async buildStep(
    id: string,
    spec: EnvSpec,
    repoDir: string,
    diagnostics: WorkspaceEnvironmentRecord['diagnostics'],
    signal: AbortSignal,
    parentId: string | null = null,
  ): Promise<StepResult<BuiltEnvironment | undefined>> {
    try {
      const value = await this.options.environments.build(spec, repoDir, {
        signal,
        parentId,
        onLog: (line) => this.log(id, 'build', line),
      });
      return {
        value,
        detail: `${value.provider}${value.cached ? ', reused' : ''}${describeReport(value)}`,
        patch: {
          environmentId: value.row.id,
          environment: {
            hash: value.row.hash,
            provider: value.provider,
            reproducible: value.reproducible,
            reproducibility: value.reproducibility,
            fallback: value.fallback,
            cached: value.cached,
            report: value.activation.report,
            diagnostics,
            services: [],
            installs: [],
          },
        },
      };
    } catch (error) {
      if (signal.aborted) throw error;
      return { value: undefined, ...softFailure(error) };
    }
  }

  private async installStep(
    id: string,
    spec: EnvSpec,
    built: BuiltEnvironment | undefined,
    signal: AbortSignal,
  ): Promise<StepResult<undefined>> {
    const { plans, blocked } = runnableInstalls(installPlans(spec), built?.activation.report ?? []);
    if (plans.length === 0 && blocked.length === 0) {
      return { value: undefined, status: 'skipped', detail: 'nothing to install' };
    }
    for (const line of blocked) this.log(id, 'install', line);
    try {
      const outcomes = plans.length
        ? await this.installDependencies(id, plans, built?.row.hash ?? 'none', signal)
        : [];
      return {
        value: undefined,
        ...(blocked.length ? { status: 'failed' as const } : {}),
        detail: [...outcomes.map((o) => `${o.label} (${o.result}, ${o.durationMs} ms)`), ...blocked].join(
          '; ',
        ),
        patch: built ? { environment: { ...(await this.environmentRecord(id)), installs: outcomes } } : {},
      };
    } catch (error) {
      if (signal.aborted) throw error;
      return { value: undefined, ...softFailure(error) };
    }
  }

  private async servicesStep(
    row: Pick<WorkspaceRow, 'id' | 'name'>,
    spec: EnvSpec,
    built: BuiltEnvironment | undefined,
    signal: AbortSignal,
  ): Promise<StepResult<undefined>> {
    if (spec.services.length === 0) return { value: undefined, status: 'skipped', detail: 'none needed' };
    try {
      const statuses = await this.startServices(row, spec, signal);
      const failed = statuses.filter((st) => st.status !== 'running');
      return {
        value: undefined,
        ...(failed.length ? { status: 'failed' as const } : {}),
        detail: statuses.map((st) => `${st.name} ${st.status}`).join(', '),
        patch: built
          ? { environment: { ...(await this.environmentRecord(row.id)), services: [...statuses] } }
          : {},
      };
    } catch (error) {
      if (signal.aborted) throw error;
      return { value: undefined, ...softFailure(error) };
    }
  }

  /** The one mirror a workspace's sandboxes see (its checkout borrows the objects from there). */
  private mirrorOf(row: Pick<WorkspaceRow, 'repo_url'>): string {
    return this.options.git.mirrorDir(parseRepoUrl(row.repo_url));
  }

  /**
   * Starts the workspace's sandbox with its environment, and its services when a spec says so.
   * `adopt`: a sandbox still running from before a server restart is taken back with its shells.
   */
  private async bringUp(
    row: Pick<WorkspaceRow, 'id' | 'name' | 'owner_id' | 'repo_url'>,
    setup: WorkspaceSetup,
    options: { adopt?: boolean; resume?: boolean } = {},
  ): Promise<void> {
    const { driver, limits } = this.options;
    const dir = this.workspaceDir(row.id);
    const user = workspaceUser(row.owner_id);
    const mirrorDir = this.mirrorOf(row);
    // Cached installs are restored from inside: the sandbox sees this owner's entries read-only.
    const cacheDirs = await this.options.installer.cacheDirs(row.owner_id, row.id);
    // A workspace made before its programs ran unprivileged has files of root's: hand them over
    // while no sandbox runs over them.
    if (driver.capabilities.unprivileged && (await lstat(dir)).uid !== user.uid) await giveTree(dir, user);
    const env = this.shellEnv(row.id, setup.activation);
    const toolchainPaths = setup.activation?.readOnlyPaths ?? [];
    const spec: SandboxSpec = {
      id: row.id,
      user,
      workspaceDir: dir,
      runtimeDir: join(this.options.runDir, row.id),
      agentDir: this.agentDir(row.id),
      readOnlyPaths: [mirrorDir, ...cacheDirs, ...toolchainPaths, ...(this.options.ide?.readOnlyPaths ?? [])],
      hiddenPaths: this.options.hiddenPaths ?? [],
      network: this.networkFor(this.options.network),
      limits,
      hostname: `ws-${row.id.slice(0, 8)}`,
      env,
    };
    // A sandbox hibernated with its memory is taken back the same way once resumed (at a restart
    // too, when the server stopped before the workspace was marked hibernated).
    const adopted = options.adopt
      ? ((await RuntimeSandbox.attach(driver, spec)) ??
        (await resumeSandbox(driver, spec, this.options.logger)))
      : options.resume
        ? await resumeSandbox(driver, spec, this.options.logger)
        : undefined;
    if (options.adopt && adopted === undefined) await this.cleanupSandbox(row.id);
    // A new sandbox gets an empty runtime directory; a running one keeps the one it has mounted.
    if (adopted === undefined) await this.runtimeDir(row.id, user);
    const sandbox = adopted ?? (await RuntimeSandbox.start(driver, spec));
    const shell = { argv: ['/bin/bash'], cwd: join(dir, 'repo'), env };
    const terminals = new WorkspaceTerminals(sandbox.agent, shell, this.options.terminals);
    if (adopted) {
      const shells = terminals.adopt(await (await sandbox.agent.connected()).list());
      this.options.logger.info({ workspace: row.id, shells }, 'took back the running workspace');
    }
    const live: LiveWorkspace = {
      sandbox,
      user,
      mirrorDir,
      cacheDirs,
      terminals,
      shell,
      toolchainPaths,
      services: undefined,
      ide: undefined,
      viewerIde: undefined,
      viewerIdeReady: undefined,
      viewerIdeStopping: undefined,
      stopping: false,
    };
    this.live.set(row.id, live);
    await this.save(row.id, { sandbox: { driver: driver.name, isolated: driver.capabilities.isolation } });
    void sandbox.exited.then(async (exit) => {
      if (live.stopping || this.live.get(row.id) !== live) return;
      this.live.delete(row.id);
      const reason = describeSandboxExit(exit);
      this.options.logger.warn({ workspace: row.id, exit }, `sandbox exited unexpectedly: ${reason}`);
      // Queued before anything else can be: a start waits until what is left of this one is gone.
      const retired = this.locked(row.id, () => this.retire(row.id, live));
      await this.save(row.id, {
        status: 'failed',
        sandbox: null,
        error: {
          code: 'SANDBOX_FAILED',
          message: `The workspace stopped: ${reason}. Its files are kept: start it again`,
          step: 'sandbox',
          filesKept: true,
        },
      }).catch(() => {});
      await retired.catch((error: unknown) =>
        this.options.logger.warn({ err: error, workspace: row.id }, 'could not clean up a dead sandbox'),
      );
    });
    if (setup.spec && setup.spec.services.length > 0) {
      await this.startServices(row, setup.spec).catch((error: unknown) =>
        this.options.logger.warn({ err: error, workspace: row.id }, 'services did not start'),
      );
    }
  }

  /** The variables every process of a workspace starts with. */
  private shellEnv(id: string, activation: Activation | undefined): Record<string, string> {
    const dir = this.workspaceDir(id);
    const activated = activation?.env ?? {};
    const basePath = activated.PATH ?? SHELL_PATH;
    return {
      LANG: 'C.UTF-8',
      ...activated,
      ...dependencyEnv(dir),
      HOME: join(dir, 'home'),
      PATH: [...dependencyPath(dir), basePath].join(':'),
      TERM: 'xterm-256color',
      SHELL: '/bin/bash',
      // Prompts show `…/<id>/repo`, not the whole data directory path.
      PROMPT_DIRTRIM: '2',
      NIXSPACE_WORKSPACE_ID: id,
    };
  }

  /** A driver that cannot enforce a policy (the unsafe driver cannot cut the network) does what it can. */
  private networkFor(wanted: NetworkPolicy): NetworkPolicy {
    const policies = this.options.driver.capabilities.networkPolicies;
    return policies.includes(wanted) ? wanted : policies[0]!;
  }

  /**
   * Makes a new workspace's directory, empty: on a volume of its own, mounted from now until the
   * workspace is deleted (or the server stops), owned by the workspace's host user.
   */
  private async makeWorkspaceDir(id: string): Promise<void> {
    const owner = this.options.volumeOwner?.(id);
    await this.options.volumes.create(id, this.workspaceDir(id), owner ? { owner } : {});
  }

  /** A write that failed because the workspace's disk is full says so, naming the limit. */
  private failIfFull(error: unknown, what: string): never {
    const size = this.options.volumes.sizeBytes;
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

  /** Mounts an existing workspace's volume, unless it is mounted already. */
  private async mountFiles(id: string): Promise<void> {
    const dir = this.workspaceDir(id);
    const mounted = await this.options.volumes.mount(id, dir);
    if (!mounted && this.options.volumes.quota && existsSync(dir)) {
      this.options.logger.warn(
        { workspace: id },
        'this workspace was made without a disk quota: its files share the host disk',
      );
    }
  }

  /** Removes a workspace's files (its volume), and the installs only it could be served from the cache. */
  private async removeFiles(id: string): Promise<void> {
    await this.options.volumes.remove(id, this.workspaceDir(id));
    for (const sandboxId of [id, `${id}-viewer`]) {
      await rm(join(this.options.runDir, sandboxId), { recursive: true, force: true });
      await rm(this.agentDir(sandboxId), { recursive: true, force: true });
    }
    await this.options.installer.forget(id);
  }

  /** Runs installs in a short-lived sandbox over the same files, with the install network policy. */
  private async installDependencies(
    id: string,
    plans: ReturnType<typeof installPlans>,
    environmentHash: string,
    signal: AbortSignal,
  ) {
    const live = this.live.get(id);
    if (!live) throw new NixSpaceError('CONFLICT', 'The workspace sandbox is not running');
    const dir = this.workspaceDir(id);
    // No install is reused across owners: one owner's cached install never lands in another's workspace.
    const owner = await this.ownerOf(id);
    if (!owner) throw new NixSpaceError('NOT_FOUND', 'The workspace no longer exists');
    const network = this.networkFor(this.options.installNetwork);
    // The install sandbox (its own network policy) starts only if something really installs:
    // restoring from the cache, or finding the install unchanged, needs none.
    let installSandbox: Promise<RuntimeSandbox> | undefined;
    const sandboxFor = (): Promise<RuntimeSandbox> => {
      if (network === this.networkFor(this.options.network)) return Promise.resolve(live.sandbox);
      installSandbox ??= RuntimeSandbox.start(this.options.driver, {
        id: `${id}-install`,
        user: live.user,
        workspaceDir: dir,
        agentDir: this.agentDir(`${id}-install`),
        readOnlyPaths: [live.mirrorDir, ...live.cacheDirs, ...live.toolchainPaths],
        hiddenPaths: this.options.hiddenPaths ?? [],
        network,
        limits: this.options.limits,
        hostname: `ws-${id.slice(0, 8)}`,
        env: live.shell.env,
      });
      return installSandbox;
    };
    try {
      return await this.options.installer.install(plans, {
        workspaceDir: dir,
        environmentHash,
        // An install without a lockfile is reused by this workspace only: whoever can edit another
        // workspace (a share editor) can change what its installs leave.
        cacheScope: id,
        ownerScope: owner,
        signal,
        onLog: (line) => this.log(id, 'install', line),
        run: async (script, options) =>
          runScript(await sandboxFor(), script, { ...options, env: live.shell.env }),
      });
    } finally {
      await installSandbox?.then((sandbox) => sandbox.stop()).catch(() => {});
      if (installSandbox) await rm(this.agentDir(`${id}-install`), { recursive: true, force: true });
    }
  }

  private async startServices(
    row: Pick<WorkspaceRow, 'id' | 'name'>,
    spec: EnvSpec,
    signal?: AbortSignal,
  ): Promise<readonly ServiceStatus[]> {
    const id = row.id;
    const live = this.live.get(id);
    if (!live) throw new NixSpaceError('CONFLICT', 'The workspace sandbox is not running');
    const started = await this.options.backingServices.start(spec.services, {
      sandbox: live.sandbox,
      workspaceDir: this.workspaceDir(id),
      env: live.shell.env,
      network: this.networkFor(this.options.network),
      // Postgres and MySQL create a database named after the repository (`owner/shop` → `shop`).
      database: row.name.split('/').pop(),
      onLog: (service, line) => this.log(id, 'services', `${service}: ${line}`),
      signal,
    });
    live.services = started;
    // Shells opened from now on get the connection settings (DATABASE_URL, REDIS_URL, ...).
    live.shell.env = { ...live.shell.env, ...started.env };
    return started.statuses;
  }

  /** Starts the workspace's IDE in the background; its status follows in the workspace's view. */
  private startIde(id: string): void {
    const live = this.live.get(id);
    const ide = this.options.ide;
    if (!live || !ide || live.ide) return;
    const dir = this.workspaceDir(id);
    live.ide = ide.start({
      sandbox: live.sandbox,
      workspaceDir: dir,
      folder: join(dir, 'repo'),
      env: live.shell.env,
      runtimeDir: join(this.options.runDir, id),
      hostSocket: this.hostSocket(id),
      onChange: () => this.announce(id),
    });
  }

  /** How the proxy reaches a workspace's running IDE (access is checked by the caller). */
  ideSocket(id: string): IdeEndpoint {
    const ide = this.live.get(id)?.ide;
    const status = ide?.status;
    if (!ide || status?.status !== 'running') {
      const state = status ? `${status.status}${status.detail ? `: ${status.detail}` : ''}` : 'not running';
      throw new NixSpaceError('IDE_UNAVAILABLE', `The IDE of this workspace is ${state}`);
    }
    return { socketPath: ide.socketPath, cookie: ide.authCookie };
  }

  /**
   * The socket of the workspace's read-only IDE, started on first use. It runs in a sandbox of its
   * own that sees the workspace's files read-only and has no network and no view of the
   * workspace's processes, so nothing done in it (its terminal included) changes the workspace.
   */
  async viewerIde(id: string): Promise<IdeEndpoint> {
    const live = this.live.get(id);
    const ide = this.options.ide;
    if (!live || !ide) throw new NixSpaceError('IDE_UNAVAILABLE', 'The IDE of this workspace is not running');
    await live.viewerIdeStopping;
    live.viewerIde ??= this.startViewerIde(id, live, ide);
    live.viewerIde.catch(() => {
      if (this.live.get(id) === live) live.viewerIde = undefined;
    });
    const viewer = await live.viewerIde;
    await viewer.ide.ready;
    return this.viewerIdeSocket(id);
  }

  /** The read-only IDE's socket when it runs (for its WebSockets, which follow a page load). */
  viewerIdeSocket(id: string): IdeEndpoint {
    const viewer = this.live.get(id)?.viewerIdeReady;
    const status = viewer?.ide.status;
    if (!viewer || status?.status !== 'running') {
      const state = status ? `${status.status}${status.detail ? `: ${status.detail}` : ''}` : 'not running';
      throw new NixSpaceError('IDE_UNAVAILABLE', `The read-only IDE of this workspace is ${state}`);
    }
    return { socketPath: viewer.ide.socketPath, cookie: viewer.ide.authCookie };
  }

  /** Stops the read-only IDE (its last viewer left); the next viewer starts it again. */
  async stopViewerIde(id: string): Promise<void> {
    const live = this.live.get(id);
    const starting = live?.viewerIde;
    if (!live || !starting) return;
    live.viewerIde = undefined;
    live.viewerIdeReady = undefined;
    const stopping = starting
      .then(async (viewer) => {
        await viewer.ide.stop();
        await viewer.sandbox.stop();
      })
      .catch((error: unknown) =>
        this.options.logger.warn({ err: error, workspace: id }, 'the read-only IDE did not stop cleanly'),
      );
    // A viewer coming back meanwhile waits for it to be gone: the next one has the same sandbox id.
    live.viewerIdeStopping = stopping;
    await stopping;
    if (live.viewerIdeStopping === stopping) live.viewerIdeStopping = undefined;
  }

  private async startViewerIde(id: string, live: LiveWorkspace, ide: IdeStarter): Promise<ViewerIde> {
    const dir = this.workspaceDir(id);
    // The viewers' VS Code keeps its state (settings, extensions) apart from the workspace, in a
    // directory made anew for each start that only the viewer sandbox mounts: nothing the owner's
    // sandbox (or an editor) writes reaches a viewer's IDE, and the host makes nothing in the
    // owner's tree.
    const runtimeDir = await this.runtimeDir(`${id}-viewer`, live.user);
    const stateDir = join(runtimeDir, 'state');
    await mkdir(stateDir, { mode: 0o700 });
    await giveTree(stateDir, live.user);
    const sandbox = await RuntimeSandbox.start(this.options.driver, {
      id: `${id}-viewer`,
      user: live.user,
      workspaceDir: stateDir,
      runtimeDir,
      agentDir: this.agentDir(`${id}-viewer`),
      readOnlyPaths: [dir, live.mirrorDir, ...live.toolchainPaths, ...ide.readOnlyPaths],
      hiddenPaths: this.options.hiddenPaths ?? [],
      network: this.networkFor('none'),
      limits: this.options.limits,
      hostname: `ws-${id.slice(0, 8)}`,
      env: live.shell.env,
    });
    const handle = ide.start({
      sandbox,
      workspaceDir: dir,
      stateDir,
      runtimeDir,
      hostSocket: this.hostSocket(`${id}-viewer`),
      readOnly: true,
      folder: join(dir, 'repo'),
      env: { ...live.shell.env, HOME: stateDir },
      onChange: () => {},
    });
    const viewer = { sandbox, ide: handle };
    live.viewerIdeReady = viewer;
    return viewer;
  }

  /** Re-sends the workspace's view to its subscribers, at most every 100 ms (IDE status changes). */
  private announce(id: string): void {
    if (this.pendingViews.has(id)) return;
    const timer = setTimeout(() => {
      this.pendingViews.delete(id);
      void findWorkspace(this.options.store.db, id)
        .then((row) => {
          if (row) this.emit(id, { type: 'workspace', workspace: this.view(row) });
        })
        .catch(() => {});
    }, 100);
    timer.unref();
    this.pendingViews.set(id, timer);
  }

  private async storedSetup(row: WorkspaceRow): Promise<WorkspaceSetup> {
    const hash = row.environment?.hash;
    if (!hash) return { activation: undefined, spec: undefined };
    const stored = await this.options.environments.stored(hash);
    return { activation: stored?.activation, spec: stored?.spec };
  }

  private async environmentRecord(id: string) {
    const row = await findWorkspace(this.options.store.db, id);
    return row!.environment!;
  }

  private async stopSandbox(id: string): Promise<void> {
    const live = this.live.get(id);
    if (!live) return;
    await this.retire(id, live);
    this.live.delete(id);
    await this.save(id, { sandbox: null }).catch(() => {});
  }

  /** Stops what runs for a workspace (terminals, IDEs, services) and its sandbox, dead or alive. */
  private async retire(id: string, live: LiveWorkspace): Promise<void> {
    live.stopping = true;
    live.terminals.closeAll();
    await live.ide
      ?.stop()
      .catch((error: unknown) =>
        this.options.logger.warn({ err: error, workspace: id }, 'the IDE did not stop cleanly'),
      );
    await live.viewerIde
      ?.then(async (viewer) => {
        await viewer.ide.stop();
        await viewer.sandbox.stop();
      })
      .catch((error: unknown) =>
        this.options.logger.warn({ err: error, workspace: id }, 'the read-only IDE did not stop cleanly'),
      );
    await live.services
      ?.stop()
      .catch((error: unknown) =>
        this.options.logger.warn({ err: error, workspace: id }, 'services did not stop cleanly'),
      );
    await live.sandbox.stop();
  }

  /** A workspace for a share link's visit: whoever holds the link sees it, unless it is deleted. */
  async viewShared(id: string): Promise<WorkspaceView> {
    const row = isUuid(id) ? await findWorkspace(this.options.store.db, id) : undefined;
    if (!row || row.status === 'deleted') {
      throw new NixSpaceError('NOT_FOUND', 'The shared workspace no longer exists');
    }
    return this.view(row);
  }

  private async owned(actor: User | VerifiedWorkspaceToken, id: string): Promise<WorkspaceRow> {
    const row = isUuid(id) ? await findWorkspace(this.options.store.db, id) : undefined;
    // A workspace token (checked by the caller) opens its one workspace; a user, only their own.
    // Another person's workspace answers exactly like a missing one.
    const allowed = 'workspaceId' in actor ? actor.workspaceId === id : row?.owner_id === actor.id;
    if (!row || !allowed) {
      throw new NixSpaceError('NOT_FOUND', `Workspace ${id} does not exist`);
    }
    return row;
  }

  private async save(id: string, patch: WorkspacePatch): Promise<WorkspaceRow> {
    const row = await updateWorkspace(this.options.store.db, id, patch);
    this.emit(id, { type: 'workspace', workspace: this.view(row) });
    return row;
  }

  private log(id: string, step: StepName, line: string): void {
    const event: WorkspaceEvent = { type: 'log', step, line };
    let recent = this.recentLogs.get(id);
    if (!recent) {
      recent = [];
      this.recentLogs.set(id, recent);
    }
    recent.push(event);
    if (recent.length > LOG_REPLAY_LINES) recent.shift();
    this.emit(id, event);
  }

  private emit(id: string, event: WorkspaceEvent): void {
    for (const listener of this.listeners.get(id) ?? []) {
      try {
        listener(event);
      } catch (error) {
        this.options.logger.warn({ err: error, workspace: id }, 'workspace listener failed');
      }
    }
  }

  /** Runs lifecycle changes of one workspace one at a time. */
  private locked<T>(id: string, fn: () => Promise<T>): Promise<T> {
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

function normaliseRef(ref: string | null | undefined): string | null {
  const trimmed = ref?.trim();
  if (!trimmed) return null;
  // The same rules as `git check-ref-format`, plus plain commit ids.
  if (
    trimmed.length > 255 ||
    // biome-ignore lint/suspicious/noControlCharactersInRegex: git forbids control characters in refs.
    /[\s~^:?*[\\\x00-\x1f\x7f]/.test(trimmed) ||
    trimmed.includes('..') ||
    trimmed.includes('@{') ||
    trimmed.startsWith('-') ||
    trimmed.startsWith('/') ||
    trimmed.endsWith('/') ||
    trimmed.endsWith('.lock') ||
    trimmed.endsWith('.')
  ) {
    throw new NixSpaceError('BAD_REQUEST', `'${trimmed}' is not a valid branch, tag or commit name`);
  }
  return trimmed;
}

function isUuid(value: string): boolean {
  return /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(value);
}

function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value.toFixed(value < 10 ? 1 : 0)} ${units[unit]}`;
}
