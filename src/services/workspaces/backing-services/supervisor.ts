// Starts the backing services an EnvSpec names (postgres, redis, ...) inside a workspace's
// sandbox, with their data under the workspace, and hands back the connection settings to export.
// A service that cannot run never fails the workspace: its status says why (missing binary and
// the package to install, a different version than wanted, a crash it could not recover from).
import type { Service } from '../../../detect/env-spec.js';
import { type NetworkPolicy, type Sandbox, stretchedDeadline } from '../../../runtime/sandbox.js';
import type { BackingService } from './backing-service.js';
import { backingServices, databaseName } from './service-kinds.js';
import { type RunnerLimits, ServiceRunner, type ServiceStatus } from './service-runner.js';

export interface SupervisorContext {
  sandbox: Sandbox;
  workspaceDir: string;
  /** The workspace's activation environment: its PATH is searched first for service binaries. */
  env: Record<string, string>;
  network: NetworkPolicy;
  /** Names the database postgres and mysql create (the repository's name); defaults to `app`. */
  database?: string;
  /**
   * How many times as long as on the host a service may take to accept clients (the sandbox
   * driver's startupSlowdown); 1 when absent.
   */
  slowdown?: number;
  onLog?(service: string, line: string): void;
  signal?: AbortSignal;
}

export interface StartedServices {
  /** Connection settings of every service that started (DATABASE_URL, REDIS_URL, ...). */
  readonly env: Record<string, string>;
  /** One per requested service, current as of the read (restarts update it). */
  readonly statuses: readonly ServiceStatus[];
  /** Stops every service gracefully (SIGKILL after the grace period); resolves when none runs. */
  stop(): Promise<void>;
  /**
   * This NixSpace server stops: the services run on in the workspace's agent, with their data
   * and connections, and the next server's start takes them back.
   */
  release(): Promise<void>;
}

export interface ServiceSupervisorOptions {
  kinds?: ReadonlyMap<string, BackingService>;
  /** Restarts of a crashed service before it is reported failed (default 3). */
  maxRestarts?: number;
  /** Delay before the first restart, doubled for each next one (default 500 ms). */
  restartDelayMs?: number;
  /** How long a graceful stop may take before SIGKILL (default 10 s). */
  stopGraceMs?: number;
  /** How long a service may take to accept clients (default 60 s). */
  readyTimeoutMs?: number;
}

export class ServiceSupervisor {
  readonly #kinds: ReadonlyMap<string, BackingService>;
  readonly #limits: RunnerLimits;

  constructor(options: ServiceSupervisorOptions = {}) {
    this.#kinds = options.kinds ?? backingServices;
    this.#limits = {
      maxRestarts: options.maxRestarts ?? 3,
      restartDelayMs: options.restartDelayMs ?? 500,
      stopGraceMs: options.stopGraceMs ?? 10_000,
      readyTimeoutMs: options.readyTimeoutMs ?? 60_000,
      portsInUse: new Set(),
    };
  }

  async start(services: readonly Service[], context: SupervisorContext): Promise<StartedServices> {
    context.signal?.throwIfAborted();
    const runnerContext = { ...context, database: databaseName(context.database) };
    // The ports in use stay one set, shared by every workspace's services.
    const limits = {
      ...this.#limits,
      readyTimeoutMs: stretchedDeadline(this.#limits.readyTimeoutMs, context.slowdown),
    };
    // One instance per service name: two entries for postgres (compose file and .env) mean one.
    const unique = [...new Map(services.map((service) => [service.name, service])).values()];
    const runners = unique.map(
      (service) =>
        new ServiceRunner(
          service.name,
          service.version,
          this.#kinds.get(service.name),
          runnerContext,
          limits,
        ),
    );
    const stop = async () => {
      await Promise.all(runners.map((runner) => runner.stop()));
    };
    const results = await Promise.allSettled(runners.map((runner) => runner.start()));
    const rejected = results.find((result) => result.status === 'rejected');
    if (rejected !== undefined) {
      await stop();
      throw rejected.reason;
    }
    const env = Object.assign({}, ...runners.map((runner) => runner.exports)) as Record<string, string>;
    let stopping: Promise<void> | undefined;
    return {
      env,
      get statuses() {
        return runners.map((runner) => ({ ...runner.status }));
      },
      stop: () => {
        stopping ??= stop();
        return stopping;
      },
      release: async () => {
        await Promise.all(runners.map((runner) => runner.release()));
      },
    };
  }
}
