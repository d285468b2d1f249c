// Workspaces: from a Git URL to a running sandbox, as a persisted state machine
// (pending → fetching → building → starting → running ⇄ stopped; failed; deleted).
// Every step is recorded with its timing and streamed to subscribers as it happens.

import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from 'pino';
import type { EnvSpec } from '../../detect/env-spec.js';
import { NixSpaceError, toErrorBody } from '../../errors.js';
import type { GitMirrors } from '../../git/mirrors.js';
import { parseRepoUrl } from '../../git/repo-url.js';
import type { RepoUrl, ResolvedRef } from '../../git/source.js';
import { RuntimeSandbox } from '../../runtime/runtime-sandbox.js';
import type { NetworkPolicy, SandboxDriver, SandboxLimits } from '../../runtime/sandbox.js';
import type { StepName, StepRecord, WorkspaceRow, WorkspaceStatus } from '../../store/schema.js';
import type { Store } from '../../store/store.js';
import {
  findWorkspace,
  insertWorkspace,
  listWorkspaces,
  listWorkspacesByStatus,
  updateWorkspace,
  type WorkspacePatch,
} from '../../store/workspace-queries.js';
import type { User } from '../access/access-service.js';
import type { DependencyInstaller } from '../environments/dependency-installer.js';
import { dependencyEnv, dependencyPath, installPlans } from '../environments/dependency-plan.js';
import type { Activation, EnvironmentService } from '../environments/environment-service.js';
import type { ServiceStatus } from './backing-services/service-runner.js';
import { describeDetection, describeReport, softFailure } from './environment-summary.js';
import { runScript } from './run-script.js';
import { WorkspaceTerminals } from './terminals.js';
import { pendingSteps, toWorkspaceView, type WorkspaceView } from './workspace-view.js';

export type WorkspaceEvent =
  | { type: 'workspace'; workspace: WorkspaceView }
  | { type: 'log'; step: StepName; line: string };

export interface WorkspaceServiceOptions {
  store: Store;
  git: GitMirrors;
  driver: SandboxDriver;
  /** Holds one directory per workspace: `<workspacesDir>/<id>/{repo,home}`. */
  workspacesDir: string;
  /** Where the git mirrors live: checkouts read their objects from there, read-only. */
  mirrorsDir: string;
  limits: SandboxLimits;
  network: NetworkPolicy;
  /** Dependency installs reach package registries even when the workspace itself has no network. */
  installNetwork: NetworkPolicy;
  environments: EnvironmentService;
  installer: DependencyInstaller;
  backingServices: BackingServicesStarter;
  logger: Logger;
}

/** Starts a spec's services (postgres, redis, …) inside a running workspace sandbox. */
export interface BackingServicesStarter {
  start(
    services: EnvSpec['services'],
    context: {
      sandbox: RuntimeSandbox;
      workspaceDir: string;
      env: Record<string, string>;
      network: NetworkPolicy;
      onLog(service: string, line: string): void;
      signal?: AbortSignal | undefined;
    },
  ): Promise<{ env: Record<string, string>; statuses: readonly ServiceStatus[]; stop(): Promise<void> }>;
}

/** What a workspace runs with: its environment's activation and the spec it was built from. */
interface WorkspaceSetup {
  activation: Activation | undefined;
  spec: EnvSpec | undefined;
}

interface LiveWorkspace {
  sandbox: RuntimeSandbox;
  terminals: WorkspaceTerminals;
  /** Variables of every shell: base, environment activation, installed tools, services. */
  shell: { argv: string[]; cwd: string; env: Record<string, string> };
  services: { stop(): Promise<void> } | undefined;
  stopping: boolean;
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

  constructor(private readonly options: WorkspaceServiceOptions) {}

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
    const row = await insertWorkspace(this.options.store.db, {
      id: crypto.randomUUID(),
      ownerId: user.id,
      name: repo.displayName,
      repoUrl: repo.url,
      ref,
      steps: pendingSteps(),
    });
    const abort = new AbortController();
    const done = this.runCreation(row, repo, ref, abort.signal).finally(() => {
      this.pipelines.delete(row.id);
      this.recentLogs.delete(row.id);
    });
    this.pipelines.set(row.id, { abort, done });
    return toWorkspaceView(row);
  }

  async get(user: User, id: string): Promise<WorkspaceView> {
    return toWorkspaceView(await this.owned(user, id));
  }

  async list(user: User): Promise<WorkspaceView[]> {
    return (await listWorkspaces(this.options.store.db, user.id)).map(toWorkspaceView);
  }

  async start(user: User, id: string): Promise<WorkspaceView> {
    await this.owned(user, id);
    return this.locked(id, async () => {
      const row = await this.owned(user, id);
      if (row.status === 'running') return toWorkspaceView(row);
      if (row.status !== 'stopped') {
        throw new NixSpaceError(
          'CONFLICT',
          `Workspace ${row.name} is ${row.status}; only a stopped workspace can start`,
        );
      }
      await this.save(id, { status: 'starting', error: null });
      try {
        await this.bringUp(row, await this.storedSetup(row));
        return toWorkspaceView(await this.save(id, { status: 'running' }));
      } catch (error) {
        await this.save(id, { status: 'failed', error: { ...toErrorBody(error), step: 'sandbox' } });
        throw error;
      }
    });
  }

  async stop(user: User, id: string): Promise<WorkspaceView> {
    await this.owned(user, id);
    return this.locked(id, async () => {
      const row = await this.owned(user, id);
      if (row.status === 'stopped') return toWorkspaceView(row);
      if (row.status !== 'running') {
        throw new NixSpaceError(
          'CONFLICT',
          `Workspace ${row.name} is ${row.status}; only a running workspace can stop`,
        );
      }
      await this.stopSandbox(id);
      return toWorkspaceView(await this.save(id, { status: 'stopped' }));
    });
  }

  /** Removes the workspace's sandbox and files; creation in progress is cancelled first. */
  async delete(user: User, id: string): Promise<void> {
    await this.owned(user, id);
    const pipeline = this.pipelines.get(id);
    if (pipeline) {
      pipeline.abort.abort(new NixSpaceError('INTERRUPTED', 'The workspace was deleted while being created'));
      await pipeline.done;
    }
    await this.locked(id, async () => {
      await this.stopSandbox(id);
      await rm(this.workspaceDir(id), { recursive: true, force: true });
      await this.save(id, { status: 'deleted', sandbox: null });
    });
  }

  /** Follows a workspace: the current state first, then every change and step log line. */
  async subscribe(user: User, id: string, listener: (event: WorkspaceEvent) => void): Promise<() => void> {
    const row = await this.owned(user, id);
    listener({ type: 'workspace', workspace: toWorkspaceView(row) });
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
  async terminals(user: User, id: string): Promise<WorkspaceTerminals> {
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

  /** The repository's Makefile targets, package.json scripts and Procfile entries, as jobs to offer. */
  async suggestedJobs(user: User, id: string): Promise<EnvSpec['jobs']> {
    const row = await this.owned(user, id);
    if (row.status !== 'running' && row.status !== 'stopped') return [];
    try {
      const detection = await this.options.environments.detect(join(this.workspaceDir(id), 'repo'));
      return detection.spec.jobs;
    } catch {
      return [];
    }
  }

  /** Whether a workspace of this user exists (for telling unknown targets apart). */
  async owns(user: User, id: string): Promise<boolean> {
    if (!isUuid(id)) return false;
    const row = await findWorkspace(this.options.store.db, id);
    return Boolean(row && row.owner_id === user.id && row.status !== 'deleted');
  }

  /**
   * Brings the store in line with reality after a (re)start: creations that were cut off fail
   * with a reason, and workspaces that were running get their sandbox back.
   */
  async reconcile(): Promise<{ failed: string[]; resumed: string[] }> {
    const rows = await listWorkspacesByStatus(this.options.store.db, [...CREATING, 'running']);
    const failed: string[] = [];
    const resumed: string[] = [];
    for (const row of rows) {
      await this.options.driver.cleanup(row.id);
      if (row.status === 'running') {
        try {
          await this.bringUp(row, await this.storedSetup(row));
          resumed.push(row.id);
          continue;
        } catch (error) {
          this.options.logger.error({ err: error, workspace: row.id }, 'could not resume workspace');
          await this.save(row.id, { status: 'failed', error: { ...toErrorBody(error), step: 'sandbox' } });
          failed.push(row.id);
          continue;
        }
      }
      await rm(this.workspaceDir(row.id), { recursive: true, force: true });
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
    return { failed, resumed };
  }

  /** Stops every sandbox this process runs; running workspaces resume on the next start. */
  async shutdown(): Promise<void> {
    for (const pipeline of this.pipelines.values()) {
      pipeline.abort.abort(new NixSpaceError('INTERRUPTED', 'NixSpace is shutting down'));
    }
    await Promise.allSettled([...this.pipelines.values()].map((p) => p.done));
    await Promise.allSettled([...this.live.keys()].map((id) => this.stopSandbox(id)));
  }

  workspaceDir(id: string): string {
    return join(this.options.workspacesDir, id);
  }

  private async runCreation(
    row: WorkspaceRow,
    repo: RepoUrl,
    ref: string | null,
    signal: AbortSignal,
  ): Promise<void> {
    const id = row.id;
    const steps = pendingSteps();
    const dir = this.workspaceDir(id);
    const run = async <T>(
      name: StepName,
      status: WorkspaceStatus,
      fn: () => Promise<{
        value: T;
        detail: string | null;
        /** `failed` here is a problem the workspace runs with (it stays usable for fixing). */
        status?: 'done' | 'skipped' | 'failed';
        log?: string[];
        patch?: WorkspacePatch;
      }>,
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

    try {
      const resolved: ResolvedRef = await run('resolve', 'fetching', async () => {
        const value = await this.options.git.resolveRef(repo, ref ?? undefined, { signal });
        return { value, detail: `${value.refName ?? 'commit'} → ${value.commit.slice(0, 12)}` };
      });
      await run('fetch', 'fetching', async () => {
        const fetched = await this.options.git.fetch(repo, {
          commit: resolved.commit,
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
        await mkdir(join(dir, 'home'), { recursive: true });
        await this.options.git.checkout(repo, resolved, join(dir, 'repo'), { signal });
        return { value: undefined, detail: resolved.branch ? `branch ${resolved.branch}` : 'detached HEAD' };
      });
      const repoDir = join(dir, 'repo');
      const environments = this.options.environments;
      const detection = await run('detect', 'building', async () => {
        const value = await environments.detect(repoDir);
        return { value, detail: describeDetection(value) };
      });
      const spec = detection.spec;
      const built = await run('build', 'building', async () => {
        try {
          const value = await environments.build(spec, repoDir, {
            signal,
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
                cached: value.cached,
                report: value.activation.report,
                diagnostics: detection.diagnostics,
                services: [],
                installs: [],
              },
            },
          };
        } catch (error) {
          if (signal.aborted) throw error;
          return { value: undefined, ...softFailure(error) };
        }
      });
      await run('sandbox', 'starting', async () => {
        await this.bringUp(row, { activation: built?.activation, spec: undefined });
        const driver = this.options.driver;
        return {
          value: undefined,
          detail: `${driver.name}${driver.capabilities.isolation ? '' : ' (not isolated)'}`,
        };
      });
      const plans = installPlans(spec);
      await run('install', 'starting', async () => {
        if (plans.length === 0) return { value: undefined, status: 'skipped', detail: 'nothing to install' };
        try {
          const outcomes = await this.installDependencies(row.id, plans, built?.row.hash ?? 'none', signal);
          return {
            value: undefined,
            detail: outcomes.map((o) => `${o.label} (${o.result}, ${o.durationMs} ms)`).join('; '),
            patch: built
              ? { environment: { ...(await this.environmentRecord(id)), installs: outcomes } }
              : {},
          };
        } catch (error) {
          if (signal.aborted) throw error;
          return { value: undefined, ...softFailure(error) };
        }
      });
      await run('services', 'starting', async () => {
        if (spec.services.length === 0) return { value: undefined, status: 'skipped', detail: 'none needed' };
        try {
          const statuses = await this.startServices(row.id, spec, signal);
          const failed = statuses.filter((st) => st.status !== 'running');
          return {
            value: undefined,
            ...(failed.length ? { status: 'failed' as const } : {}),
            detail: statuses.map((st) => `${st.name} ${st.status}`).join(', '),
            patch: built
              ? { environment: { ...(await this.environmentRecord(id)), services: [...statuses] } }
              : {},
          };
        } catch (error) {
          if (signal.aborted) throw error;
          return { value: undefined, ...softFailure(error) };
        }
      });
      await run('ready', 'running', async () => ({
        value: undefined,
        detail: null,
        patch: { status: 'running' },
      }));
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
      await rm(dir, { recursive: true, force: true });
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

  /** Starts the workspace's sandbox with its environment, and its services when a spec says so. */
  private async bringUp(row: Pick<WorkspaceRow, 'id' | 'name'>, setup: WorkspaceSetup): Promise<void> {
    const { driver, limits } = this.options;
    const dir = this.workspaceDir(row.id);
    const env = this.shellEnv(row.id, setup.activation);
    const sandbox = await RuntimeSandbox.start(driver, {
      id: row.id,
      workspaceDir: dir,
      readOnlyPaths: [this.options.mirrorsDir],
      network: this.networkFor(this.options.network),
      limits,
      hostname: `ws-${row.id.slice(0, 8)}`,
      env,
    });
    const shell = { argv: ['/bin/bash'], cwd: join(dir, 'repo'), env };
    const terminals = new WorkspaceTerminals(sandbox, shell);
    const live: LiveWorkspace = { sandbox, terminals, shell, services: undefined, stopping: false };
    this.live.set(row.id, live);
    await this.save(row.id, { sandbox: { driver: driver.name, isolated: driver.capabilities.isolation } });
    void sandbox.exited.then(async (exit) => {
      if (live.stopping || this.live.get(row.id) !== live) return;
      this.live.delete(row.id);
      terminals.closeAll();
      this.options.logger.warn({ workspace: row.id, exit }, 'sandbox exited unexpectedly');
      await this.save(row.id, {
        status: 'failed',
        error: {
          code: 'SANDBOX_FAILED',
          message: `The workspace sandbox exited unexpectedly (${exit.signal ?? `exit code ${exit.code}`}); its files are kept`,
          step: 'sandbox',
        },
      }).catch(() => {});
    });
    if (setup.spec && setup.spec.services.length > 0) {
      await this.startServices(row.id, setup.spec).catch((error: unknown) =>
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
    const network = this.networkFor(this.options.installNetwork);
    const installSandbox =
      network === this.networkFor(this.options.network)
        ? undefined
        : await RuntimeSandbox.start(this.options.driver, {
            id: `${id}-install`,
            workspaceDir: dir,
            readOnlyPaths: [this.options.mirrorsDir],
            network,
            limits: this.options.limits,
            hostname: `ws-${id.slice(0, 8)}`,
            env: live.shell.env,
          });
    const sandbox = installSandbox ?? live.sandbox;
    try {
      return await this.options.installer.install(plans, {
        workspaceDir: dir,
        environmentHash,
        signal,
        onLog: (line) => this.log(id, 'install', line),
        run: (script, options) => runScript(sandbox, script, { ...options, env: live.shell.env }),
      });
    } finally {
      await installSandbox?.stop();
    }
  }

  private async startServices(
    id: string,
    spec: EnvSpec,
    signal?: AbortSignal,
  ): Promise<readonly ServiceStatus[]> {
    const live = this.live.get(id);
    if (!live) throw new NixSpaceError('CONFLICT', 'The workspace sandbox is not running');
    const started = await this.options.backingServices.start(spec.services, {
      sandbox: live.sandbox,
      workspaceDir: this.workspaceDir(id),
      env: live.shell.env,
      network: this.networkFor(this.options.network),
      onLog: (service, line) => this.log(id, 'services', `${service}: ${line}`),
      signal,
    });
    live.services = started;
    // Shells opened from now on get the connection settings (DATABASE_URL, REDIS_URL, ...).
    live.shell.env = { ...live.shell.env, ...started.env };
    return started.statuses;
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
    live.stopping = true;
    live.terminals.closeAll();
    await live.services
      ?.stop()
      .catch((error: unknown) =>
        this.options.logger.warn({ err: error, workspace: id }, 'services did not stop cleanly'),
      );
    await live.sandbox.stop();
    this.live.delete(id);
    await this.save(id, { sandbox: null }).catch(() => {});
  }

  private async owned(user: User, id: string): Promise<WorkspaceRow> {
    const row = isUuid(id) ? await findWorkspace(this.options.store.db, id) : undefined;
    // Another person's workspace answers exactly like a missing one.
    if (!row || row.owner_id !== user.id) {
      throw new NixSpaceError('NOT_FOUND', `Workspace ${id} does not exist`);
    }
    return row;
  }

  private async save(id: string, patch: WorkspacePatch): Promise<WorkspaceRow> {
    const row = await updateWorkspace(this.options.store.db, id, patch);
    this.emit(id, { type: 'workspace', workspace: toWorkspaceView(row) });
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
