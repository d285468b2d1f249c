// Composition root: opens the store, picks the sandbox driver, wires the services and the HTTP
// server, reconciles what an earlier process left, and listens.

import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import pino, { type Logger } from 'pino';
import { listenAdminSocket } from './admin-socket.js';
import { attachJobsSocket } from './api/jobs-socket.js';
import { buildServer } from './api/server.js';
import { type Config, publicOrigin } from './config.js';
import { acquireDataDirLock } from './data-dir-lock.js';
import { GitMirrors } from './git/mirrors.js';
import { SourcePolicy } from './git/source-policy.js';
import type { EnvironmentProvider } from './nix/environment-provider.js';
import { RegistryToolchains } from './nix/registry-toolchains.js';
import { selectEnvironmentProvider } from './nix/select-provider.js';
import { selectWorkspaceVolumes } from './runtime/disk/select-volumes.js';
import type { WorkspaceVolumes } from './runtime/disk/workspace-volumes.js';
import type { SandboxDriver } from './runtime/sandbox.js';
import { selectSandboxDriver } from './runtime/select-driver.js';
import { AccessService } from './services/access/access-service.js';
import { ShareService } from './services/access/share-service.js';
import { WorkspacePresence } from './services/access/workspace-presence.js';
import { WorkspaceTokens } from './services/access/workspace-tokens.js';
import { DependencyInstaller } from './services/environments/dependency-installer.js';
import { EnvironmentService } from './services/environments/environment-service.js';
import { CodeServerInstaller } from './services/ide/code-server-install.js';
import { IdeSupervisor } from './services/ide/ide-supervisor.js';
import { JobService } from './services/jobs/job-service.js';
import { RunningJobs } from './services/jobs/running-jobs.js';
import { SshHostService } from './services/jobs/ssh-host-service.js';
import { ServiceSupervisor } from './services/workspaces/backing-services/supervisor.js';
import { IdleTracker } from './services/workspaces/idle-tracker.js';
import type { LifetimeSettings } from './services/workspaces/lifetime.js';
import { LifetimeSweeper } from './services/workspaces/lifetime-sweeper.js';
import { WorkspaceService } from './services/workspaces/workspace-service.js';
import { Store } from './store/store.js';

export interface NixSpace {
  config: Config;
  url: string;
  app: FastifyInstance;
  store: Store;
  access: AccessService;
  workspaces: WorkspaceService;
  /** How workspace directories are made: with a disk quota each, or (unsafe) without. */
  volumes: WorkspaceVolumes;
  shares: ShareService;
  jobs: JobService;
  sshHosts: SshHostService;
  /** Deletes expired workspaces and hibernates idle ones; `sweep()` looks now. */
  sweeper: LifetimeSweeper;
  logger: Logger;
  /** A fresh one-time sign-in link for the owner. */
  ownerLoginLink(): Promise<string>;
  close(): Promise<void>;
}

export interface StartOptions {
  logger?: Logger;
  /** Overrides driver selection (tests). */
  driver?: SandboxDriver;
  /** Overrides how workspace directories are made (tests). */
  volumes?: WorkspaceVolumes;
  /** Overrides environment provider selection (tests). */
  environmentProvider?: EnvironmentProvider;
  webDir?: string;
  /** The clock of the lifetime and idle limits (tests). */
  now?: () => Date;
}

export async function startNixSpace(config: Config, options: StartOptions = {}): Promise<NixSpace> {
  // Logs go to stderr; stdout carries what the CLI tells a person (the URL, the sign-in link).
  const logger = options.logger ?? pino({ level: config.logLevel }, pino.destination(2));
  const driver =
    options.driver ??
    (await selectSandboxDriver({
      unsafeNoSandbox: config.unsafeNoSandbox,
      sandbox: config.sandbox,
      gvisorStateDir: join(config.dataDir, 'gvisor'),
      unsafeNoLimits: config.unsafeNoLimits,
    }));
  await mkdir(config.dataDir, { recursive: true, mode: 0o700 });
  // Before anything reads the data directory: a second server would take the first one's running
  // workspaces for leftovers and kill them.
  const lock = await acquireDataDirLock(config.dataDir);
  const opened = await (async () => {
    const volumes =
      options.volumes ??
      (await selectWorkspaceVolumes({
        unsafeNoDiskQuota: config.unsafeNoDiskQuota,
        dir: join(config.dataDir, 'volumes'),
        sizeBytes: config.limits.disk,
      }));
    if (!volumes.quota) {
      logger.warn(
        '--unsafe-no-disk-quota: workspaces have no disk quota and share the host disk with the database',
      );
    }
    const store = await Store.open({
      databaseUrl: config.databaseUrl,
      pgliteDir: join(config.dataDir, 'db'),
    });
    return { volumes, store };
  })().catch(async (error: unknown) => {
    await lock.release();
    throw error;
  });
  const { volumes, store } = opened;
  try {
    const access = new AccessService(store);
    const mirrorsDir = join(config.dataDir, 'mirrors');
    const sources = new SourcePolicy({
      allowLocal: config.allowLocalSources,
      forbiddenDirs: [config.dataDir],
      lookupTimeoutMs: config.git.timeoutMs,
    });
    const git = new GitMirrors({
      mirrorsDir,
      timeoutMs: config.git.timeoutMs,
      maxRepoBytes: config.git.maxRepoBytes,
      sources,
    });
    const provider =
      options.environmentProvider ??
      (await selectEnvironmentProvider({
        ...(config.environmentProvider === 'auto' ? {} : { force: config.environmentProvider }),
        nix: { offline: config.nixOffline },
        ...(config.toolchains.fetch
          ? { host: { toolchains: new RegistryToolchains({ dir: config.toolchains.dir }) } }
          : {}),
        onLog: (line) => logger.info(line),
      }));
    const environments = new EnvironmentService({
      store,
      provider,
      environmentsDir: join(config.dataDir, 'environments'),
    });
    const now = options.now ?? (() => new Date());
    const idle = new IdleTracker(() => now().getTime());
    const lifetime: LifetimeSettings = {
      lifetimeMs: config.workspaces.lifetimeMs,
      warningMs: config.workspaces.expiryWarningMs,
      idleTimeoutMs: config.workspaces.hibernateAfterMs,
    };
    // The job service is built on top of the workspaces; a switch asks this list of its jobs.
    const runningJobs = new RunningJobs();
    const workspaces = new WorkspaceService({
      store,
      git,
      sources,
      driver,
      workspacesDir: join(config.dataDir, 'workspaces'),
      volumes,
      mirrorsDir,
      hiddenPaths: [config.dataDir],
      runDir: join(config.dataDir, 'run'),
      limits: { memoryBytes: config.limits.memory, cpus: config.limits.cpus, pids: config.limits.pids },
      network: config.sandboxNetwork,
      installNetwork: config.installNetwork,
      environments,
      installer: new DependencyInstaller(join(config.dataDir, 'cache', 'dependencies')),
      backingServices: new ServiceSupervisor(),
      ide: config.ide.enabled
        ? new IdeSupervisor({
            installer: new CodeServerInstaller({ dir: config.ide.dir }),
            installOnDemand: config.ide.installOnDemand,
            onInstallLog: (line) => logger.info({ component: 'code-server install' }, line),
          })
        : undefined,
      terminals: {
        max: config.terminals.max,
        detachedIdleMs: config.terminals.detachedIdleSeconds * 1000,
      },
      jobs: runningJobs,
      lifetime: { settings: lifetime, idle, now },
      agentDeadlineMs: config.workspaces.agentTimeoutMs,
      logger,
    });
    const reconciled = await workspaces.reconcile();
    if (reconciled.failed.length || reconciled.resumed.length)
      logger.info(reconciled, 'reconciled workspaces');

    const sshHosts = new SshHostService(store);
    const jobs = new JobService({
      store,
      workspaces,
      running: runningJobs,
      sshHosts,
      logger,
      limits: {
        headBytes: Math.floor(config.jobs.maxOutputBytes / 2),
        tailBytes: Math.ceil(config.jobs.maxOutputBytes / 2),
      },
      cancelGraceMs: config.jobs.cancelGraceMs,
      sshTimeoutMs: config.jobs.sshTimeoutMs,
      retentionDays: config.jobs.retentionDays,
      activity: idle,
    });
    const { lost: lostJobs, resumed: resumedJobs } = await jobs.reconcile();
    if (lostJobs.length) logger.info({ lost: lostJobs }, 'jobs left running by an earlier process are lost');
    if (resumedJobs.length)
      logger.info({ resumed: resumedJobs }, 'jobs that ran on through the restart continue');
    const pruneJobs = () =>
      void jobs
        .prune()
        .then((n) => n && logger.info({ events: n }, 'pruned old job output'))
        .catch((error: unknown) => logger.warn({ err: error }, 'could not prune job output'));
    pruneJobs();

    const { user: owner } = await access.ensureOwner(config.ownerEmail);
    // With --port 0 the origin is known only once the server listens.
    let origin = publicOrigin(config);
    const tokens = await WorkspaceTokens.open(join(config.dataDir, 'secrets', 'workspace-token.key'), {
      rotateEveryMs: config.tokens.keyRotationHours * 3600_000,
    });
    const presence = new WorkspacePresence(config.maxWorkspaceUsers);
    // An open terminal or IDE is someone at work in the workspace (the progress stream alone is not).
    presence.onJoin((workspaceId, kind) => (kind === 'events' ? undefined : idle.open(workspaceId, kind)));
    const sweeper = new LifetimeSweeper({ store, workspaces, idle, settings: lifetime, logger, now });
    // A read-only IDE costs a code-server: it goes a while after its last viewer (a reload keeps it).
    presence.onViewerIdeGone((id) => {
      const timer = setTimeout(() => {
        if (!presence.viewerIdeOpen(id)) void workspaces.stopViewerIde(id);
      }, config.ide.viewerIdleSeconds * 1000);
      timer.unref();
    });
    const shares = new ShareService({ store, tokens, presence, workspaces, origin: () => origin });
    const app = await buildServer({
      startedAt: new Date(),
      logger,
      access,
      workspaces,
      tokens,
      shares,
      presence,
      jobs,
      sshHosts,
      origin: () => origin,
      ...(options.webDir ? { webDir: options.webDir } : {}),
    });
    await app.ready();
    const io = attachJobsSocket(app, { jobs, access, origin: () => origin });
    await app.listen({ host: config.host, port: config.port });
    const address = app.server.address();
    const port = typeof address === 'object' && address ? address.port : config.port;
    origin = publicOrigin({ ...config, port });
    const url = origin;
    await lock.setUrl(url);
    const ownerLoginLink = async () => {
      const { token } = await access.createLoginLink(owner.id);
      return `${url}/auth/link?token=${token}`;
    };
    const admin = await listenAdminSocket(config.dataDir, {
      loginLink: ownerLoginLink,
      rotateKeys: async () => {
        await tokens.rotate({ immediately: true });
        const closed = presence.evictTokens({
          code: 'UNAUTHENTICATED',
          message: 'The workspace-token keys were rotated; open the workspace again',
        });
        logger.info({ closed }, 'rotated the workspace-token keys: every token signed before is refused');
      },
    });
    sweeper.start();
    const prune = setInterval(() => void access.pruneExpired().catch(() => {}), 60 * 60 * 1000);
    prune.unref();
    const jobPrune = setInterval(pruneJobs, 6 * 60 * 60 * 1000);
    jobPrune.unref();

    let closing: Promise<void> | undefined;
    return {
      config,
      url,
      app,
      store,
      access,
      workspaces,
      volumes,
      shares,
      jobs,
      sshHosts,
      sweeper,
      logger,
      ownerLoginLink,
      close() {
        closing ??= (async () => {
          clearInterval(prune);
          clearInterval(jobPrune);
          await sweeper.stop();
          tokens.close();
          admin.close();
          await jobs.shutdown();
          // Not io.close(): that would close the HTTP server under Fastify.
          io.disconnectSockets(true);
          io.engine.close();
          await app.close();
          await workspaces.shutdown();
          await store.close();
          await lock.release();
        })();
        return closing;
      },
    };
  } catch (error) {
    // The start failed: what reconcile mounted must not outlive it (the error is the one to report).
    await volumes.unmountAll().catch(() => undefined);
    await store.close();
    await lock.release();
    throw error;
  }
}
