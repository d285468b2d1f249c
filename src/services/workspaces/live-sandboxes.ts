// The live sandboxes: the running sandbox of each workspace this process holds, with its
// terminals, IDE, services and the shell environment they share. Started, taken back after a
// restart (attach), stopped, or let go of (release) when the server stops while they run on.

import { lstat } from 'node:fs/promises';
import { join } from 'node:path';
import type { EnvSpec } from '../../detect/env-spec.js';
import { NixSpaceError, toErrorBody } from '../../errors.js';
import { giveTree } from '../../runtime/host/give-tree.js';
import { RuntimeSandbox } from '../../runtime/runtime-sandbox.js';
import {
  type SandboxDriver,
  type SandboxExit,
  type SandboxSpec,
  type SandboxUser,
  startupSlowdownOf,
} from '../../runtime/sandbox.js';
import { describeSandboxExit } from '../../runtime/sandbox-exit.js';
import type { WorkspaceRow } from '../../store/schema.js';
import { dependencyEnv, dependencyPath } from '../environments/dependency-plan.js';
import type { Activation } from '../environments/environment-service.js';
import type { IdeHandle } from '../ide/ide-supervisor.js';
import type { ServiceStatus } from './backing-services/service-runner.js';
import { storedSetup } from './environment-steps.js';
import { hibernateSandbox, hibernatesWithMemory, resumeSandbox } from './memory-hibernation.js';
import { RestartBudget } from './restart-budget.js';
import { WorkspaceTerminals } from './terminals.js';
import { stopViewer, type ViewerIde } from './viewer-ide.js';
import type { WorkspaceContext } from './workspace-context.js';
import type { IdeEndpoint } from './workspace-options.js';
import { workspaceUser } from './workspace-user.js';

/** What a workspace runs with: its environment's activation and the spec it was built from. */
export interface WorkspaceSetup {
  activation: Activation | undefined;
  spec: EnvSpec | undefined;
}

export interface LiveWorkspace {
  sandbox: RuntimeSandbox;
  /** The driver its sandbox runs on (the workspace's own), and its short-lived ones. */
  driver: SandboxDriver;
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

const SHELL_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

export class LiveSandboxes {
  private readonly live = new Map<string, LiveWorkspace>();
  /** Restarts of workspaces whose agent stopped answering, so that none is restarted forever. */
  readonly restarts = new RestartBudget();

  constructor(private readonly ctx: WorkspaceContext) {}

  get(id: string): LiveWorkspace | undefined {
    return this.live.get(id);
  }

  has(id: string): boolean {
    return this.live.has(id);
  }

  /**
   * Starts the workspace's sandbox with its environment, and its services when a spec says so.
   * `adopt`: a sandbox still running from before a server restart is taken back with its shells.
   * `resume`: a sandbox hibernated with its memory is resumed and taken back the same way.
   */
  async bringUp(
    row: Pick<WorkspaceRow, 'id' | 'name' | 'owner_id' | 'repo_url' | 'sandbox_driver'>,
    setup: WorkspaceSetup,
    options: { adopt?: boolean; resume?: boolean } = {},
  ): Promise<void> {
    const ctx = this.ctx;
    const { limits } = ctx.options;
    const driver = ctx.drivers.of(row);
    const dir = ctx.workspaceDir(row.id);
    const user = workspaceUser(row.owner_id);
    const mirrorDir = ctx.mirrorOf(row);
    // Cached installs are restored from inside: the sandbox sees this owner's entries read-only.
    const cacheDirs = await ctx.options.installer.cacheDirs(row.owner_id, row.id);
    // A workspace made before its programs ran unprivileged has files of root's: hand them over
    // while no sandbox runs over them.
    if (driver.capabilities.unprivileged && (await lstat(dir)).uid !== user.uid) await giveTree(dir, user);
    const env = this.shellEnv(row.id, setup.activation);
    const toolchainPaths = setup.activation?.readOnlyPaths ?? [];
    const spec: SandboxSpec = {
      id: row.id,
      user,
      workspaceDir: dir,
      runtimeDir: join(ctx.options.runDir, row.id),
      agentDir: ctx.agentDir(row.id),
      readOnlyPaths: [mirrorDir, ...cacheDirs, ...toolchainPaths, ...(ctx.options.ide?.readOnlyPaths ?? [])],
      hiddenPaths: ctx.options.hiddenPaths ?? [],
      network: ctx.networkFor(ctx.options.network, driver),
      limits,
      hostname: `ws-${row.id.slice(0, 8)}`,
      env,
    };
    const watch = ctx.options.agentDeadlineMs ? { agentDeadlineMs: ctx.options.agentDeadlineMs } : {};
    // A sandbox hibernated with its memory is resumed (at a restart too, when the server stopped
    // before the workspace was marked hibernated).
    const adopted = options.adopt
      ? ((await RuntimeSandbox.attach(driver, spec, watch)) ??
        (await resumeSandbox(driver, spec, watch, ctx.logger)))
      : options.resume
        ? await resumeSandbox(driver, spec, watch, ctx.logger)
        : undefined;
    if (options.adopt && adopted === undefined) await ctx.cleanupSandbox(row.id, driver);
    // A new sandbox gets an empty runtime directory; a running one keeps the one it has mounted.
    if (adopted === undefined) await ctx.runtimeDir(row.id, user);
    const sandbox = adopted ?? (await RuntimeSandbox.start(driver, spec, watch));
    const shell = { argv: ['/bin/bash'], cwd: join(dir, 'repo'), env };
    const terminals = new WorkspaceTerminals(sandbox.agent, shell, ctx.options.terminals);
    if (adopted) {
      const shells = terminals.adopt(await (await sandbox.agent.connected()).list());
      ctx.logger.info({ workspace: row.id, shells }, 'took back the running workspace');
    }
    const live: LiveWorkspace = {
      sandbox,
      driver,
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
    await ctx.save(row.id, { sandbox: { driver: driver.name, isolated: driver.capabilities.isolation } });
    void sandbox.exited.then((exit) => this.died(row.id, live, describeSandboxExit(exit), exit));
    if (setup.spec && setup.spec.services.length > 0) {
      await this.startServices(row, setup.spec).catch((error: unknown) =>
        ctx.logger.warn({ err: error, workspace: row.id }, 'services did not start'),
      );
    }
  }

  /**
   * A sandbox that exited on its own: the workspace fails, with its files kept to start again. One
   * ended because its agent stopped answering is restarted instead, within its restart budget.
   */
  private async died(id: string, live: LiveWorkspace, reason: string, exit: SandboxExit): Promise<void> {
    if (live.stopping || this.live.get(id) !== live) return;
    this.live.delete(id);
    this.ctx.logger.warn({ workspace: id, exit }, `sandbox exited unexpectedly: ${reason}`);
    // Queued before anything else can be: a start waits until what is left of this one is gone.
    const retired = this.ctx.locked(id, () => this.retire(id, live));
    if (exit.unresponsive !== undefined && this.restarts.take(id)) {
      await this.restartUnresponsive(id, exit.unresponsive, retired);
      return;
    }
    await this.ctx
      .save(id, {
        status: 'failed',
        sandbox: null,
        error: {
          code: 'SANDBOX_FAILED',
          message: `The workspace stopped: ${reason}. Its files are kept: start it again`,
          step: 'sandbox',
          filesKept: true,
        },
      })
      .catch(() => {});
    await retired.catch((error: unknown) =>
      this.ctx.logger.warn({ err: error, workspace: id }, 'could not clean up a dead sandbox'),
    );
  }

  /**
   * Brings a workspace whose agent stopped answering up again in a new sandbox, saying so: in its
   * progress log, and in `sandbox.restarted` until it next stops. Its processes are gone; its files
   * stay. A workspace stopped or deleted meanwhile is left as it is.
   */
  private async restartUnresponsive(id: string, why: string, retired: Promise<void>): Promise<void> {
    const ctx = this.ctx;
    const at = ctx.now();
    ctx.log(id, 'sandbox', `${why}: restarting the workspace; its processes were ended, its files are kept`);
    await ctx.save(id, { status: 'starting' }).catch(() => {});
    await retired.catch((error: unknown) =>
      ctx.logger.warn({ err: error, workspace: id }, 'could not clean up a dead sandbox'),
    );
    await ctx.locked(id, async () => {
      const row = await ctx.records.find(id);
      if (row?.status !== 'starting' || this.live.has(id)) return;
      try {
        const driver = ctx.drivers.of(row);
        await ctx.cleanupSandbox(id, driver);
        await this.bringUp(row, await storedSetup(ctx, row));
        this.startIde(id);
        const sandbox = {
          driver: driver.name,
          isolated: driver.capabilities.isolation,
          restarted: { at: at.toISOString(), reason: why },
        };
        await ctx.save(id, { status: 'running', sandbox });
        ctx.log(id, 'sandbox', 'the workspace is running again');
      } catch (error) {
        ctx.logger.warn({ err: error, workspace: id }, 'could not restart an unresponsive workspace');
        await ctx
          .save(id, { status: 'failed', error: { ...toErrorBody(error), step: 'sandbox', filesKept: true } })
          .catch(() => {});
      }
    });
  }

  /** The variables every process of a workspace starts with. */
  private shellEnv(id: string, activation: Activation | undefined): Record<string, string> {
    const dir = this.ctx.workspaceDir(id);
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

  /** Starts a spec's services in the running sandbox; its shells get their connection settings. */
  async startServices(
    row: Pick<WorkspaceRow, 'id' | 'name'>,
    spec: EnvSpec,
    signal?: AbortSignal,
  ): Promise<readonly ServiceStatus[]> {
    const id = row.id;
    const live = this.live.get(id);
    if (!live) throw new NixSpaceError('CONFLICT', 'The workspace sandbox is not running');
    const started = await this.ctx.options.backingServices.start(spec.services, {
      sandbox: live.sandbox,
      workspaceDir: this.ctx.workspaceDir(id),
      env: live.shell.env,
      network: this.ctx.networkFor(this.ctx.options.network, live.driver),
      slowdown: startupSlowdownOf(live.driver),
      // Postgres and MySQL create a database named after the repository (`owner/shop` → `shop`).
      database: row.name.split('/').pop(),
      onLog: (service, line) => this.ctx.log(id, 'services', `${service}: ${line}`),
      signal,
    });
    live.services = started;
    // Shells opened from now on get the connection settings (DATABASE_URL, REDIS_URL, ...).
    live.shell.env = { ...live.shell.env, ...started.env };
    return started.statuses;
  }

  /** Starts the workspace's IDE in the background; its status follows in the workspace's view. */
  startIde(id: string): void {
    const live = this.live.get(id);
    const ide = this.ctx.options.ide;
    if (!live || !ide || live.ide) return;
    const dir = this.ctx.workspaceDir(id);
    live.ide = ide.start({
      sandbox: live.sandbox,
      workspaceDir: dir,
      folder: join(dir, 'repo'),
      env: live.shell.env,
      runtimeDir: live.driver.capabilities.socketDir ?? join(this.ctx.options.runDir, id),
      hostSocket: this.ctx.hostSocket(id),
      slowdown: startupSlowdownOf(live.driver),
      onChange: () => this.ctx.announce(id),
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

  /** Stops the workspace's sandbox and all that runs in it, if it runs. */
  async stop(id: string): Promise<void> {
    const live = this.live.get(id);
    if (!live) return;
    await this.retire(id, live);
    this.live.delete(id);
    await this.ctx.save(id, { sandbox: null }).catch(() => {});
  }

  /** Stops what runs for a workspace (terminals, IDEs, services) and its sandbox, dead or alive. */
  private async retire(id: string, live: LiveWorkspace): Promise<void> {
    const logger = this.ctx.logger;
    live.stopping = true;
    live.terminals.closeAll();
    await live.ide
      ?.stop()
      .catch((error: unknown) => logger.warn({ err: error, workspace: id }, 'the IDE did not stop cleanly'));
    await live.viewerIde
      ?.then(stopViewer)
      .catch((error: unknown) =>
        logger.warn({ err: error, workspace: id }, 'the read-only IDE did not stop cleanly'),
      );
    await live.services
      ?.stop()
      .catch((error: unknown) => logger.warn({ err: error, workspace: id }, 'services did not stop cleanly'));
    await live.sandbox.stop();
  }

  /**
   * Lets go of every running workspace without stopping it: the agent keeps running its shells,
   * jobs, VS Code and services. Their read-only IDEs stop (the next server starts them on demand).
   * Returns the directories of the workspaces that run on.
   */
  async releaseAll(): Promise<Set<string>> {
    const kept = new Set<string>();
    await Promise.allSettled(
      [...this.live.entries()].map(async ([id, live]) => {
        kept.add(this.ctx.workspaceDir(id));
        await this.release(id, live);
        await live.sandbox.agent.close({ removeSocket: false });
      }),
    );
    return kept;
  }

  /**
   * Hibernates a running workspace's sandbox: saved with its memory where the driver can (what
   * runs in it is let go of as at a server restart, and taken back on resume), stopped otherwise
   * or when saving fails.
   */
  async hibernate(id: string): Promise<void> {
    const live = this.live.get(id);
    if (!live || !hibernatesWithMemory(live.driver)) return this.stop(id);
    await this.release(id, live);
    await hibernateSandbox(live.sandbox, this.ctx.logger);
    await this.ctx.save(id, { sandbox: null }).catch(() => {});
  }

  /** Lets go of what runs for a workspace, its agent's link aside; its sandbox runs on. */
  private async release(id: string, live: LiveWorkspace): Promise<void> {
    live.stopping = true;
    this.live.delete(id);
    live.terminals.releaseAll();
    live.ide?.release();
    await Promise.allSettled([live.viewerIde?.then(stopViewer), live.services?.release()]);
  }
}
