// What a workspace service is built from: its store, git, driver, environments, IDE and
// services, and the limits its workspaces run under.

import type { Logger } from 'pino';
import type { EnvSpec } from '../../detect/env-spec.js';
import type { GitMirrors } from '../../git/mirrors.js';
import type { SourcePolicy } from '../../git/source-policy.js';
import type { VolumeOwner, WorkspaceVolumes } from '../../runtime/disk/workspace-volumes.js';
import type { RuntimeSandbox } from '../../runtime/runtime-sandbox.js';
import type { NetworkPolicy, SandboxDriver, SandboxLimits } from '../../runtime/sandbox.js';
import type { SandboxDrivers } from '../../runtime/sandbox-drivers.js';
import type { WorkspaceEnvironmentRecord } from '../../store/schema.js';
import type { Store } from '../../store/store.js';
import type { WorkspaceEvent as WireWorkspaceEvent } from '../../wire/workspaces.js';
import type { DependencyInstaller } from '../environments/dependency-installer.js';
import type { EnvironmentService } from '../environments/environment-service.js';
import type { IdeStatus } from '../ide/code-server-runner.js';
import type { IdeHandle } from '../ide/ide-supervisor.js';
import type { ServiceStatus } from './backing-services/service-runner.js';
import type { IdleTracker } from './idle-tracker.js';
import type { LifetimeSettings } from './lifetime.js';
import type { TerminalLimits } from './terminals.js';

export type WorkspaceEvent = WireWorkspaceEvent<WorkspaceEnvironmentRecord>;

export interface WorkspaceServiceOptions {
  store: Store;
  git: GitMirrors;
  /** What repositories may come from; a refused URL is never stored. */
  sources: SourcePolicy;
  /** Where new workspaces run unless they ask for another of `drivers`. */
  driver: SandboxDriver;
  /** Every driver this server has (the default included); without it, only `driver`. */
  drivers?: SandboxDrivers;
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
  /** The jobs running in workspaces: a switch asks before it pulls the checkout from under them. */
  jobs: WorkspaceJobs;
  /** The lifetime and idle limits, and what is open in each workspace; without it, none apply. */
  lifetime?: { settings: LifetimeSettings; idle: IdleTracker; now?: () => Date };
  /** A running workspace whose agent answers nothing this long is restarted; unset or 0: never. */
  agentDeadlineMs?: number;
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
    /** How many times as long as on the host it may take to come up (the driver's). */
    slowdown?: number;
    onChange(status: IdeStatus): void;
  }): IdeHandle;
}

/** Where the proxy sends an IDE's requests, and the cookie code-server requires of each. */
export interface IdeEndpoint {
  socketPath: string;
  cookie: string;
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
      /** How many times as long as on the host a service may take to come up (the driver's). */
      slowdown?: number;
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
