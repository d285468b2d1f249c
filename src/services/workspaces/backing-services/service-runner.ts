// One backing service of one workspace: locate, initialise, run in the foreground inside the
// sandbox, wait until ready, restart after a crash (bounded, with backoff), stop gracefully.
// Every file it touches is written from inside the sandbox: the workspace controls its own
// directory, and a host-side write there could be redirected by a symlink.
import { join } from 'node:path';
import { NixSpaceError } from '../../../errors.js';
import type { AgentLink } from '../../../runtime/agent/agent-link.js';
import { AgentProcess } from '../../../runtime/agent/agent-process.js';
import { userNamespaceArgv } from '../../../runtime/host/user-namespace.js';
import type { NetworkPolicy, Sandbox } from '../../../runtime/sandbox.js';
import { execInSandbox } from '../../../runtime/sandbox-exec.js';
import type { AgentSignal, ProcessInfo } from '../../../wire/agent.js';
import {
  describeError,
  SupervisedProcess,
  type SupervisionLimits,
} from '../../supervision/supervised-process.js';
import type { BackingService, ServiceInstance } from './backing-service.js';
import { freePort } from './free-port.js';
import { chooseBinary, locateBinaries } from './locate-binaries.js';
import { serviceAccount } from './service-account.js';
import { ServiceLog } from './service-log.js';

export type ServiceState = 'running' | 'restarting' | 'failed' | 'missing' | 'stopped';

export interface ServiceStatus {
  name: string;
  wantedVersion: string | null;
  /** The version running (or last run); null when no binary was found. */
  version: string | null;
  status: ServiceState;
  port: number | null;
  /** True when the host provides another version than the one asked for. */
  versionMismatch: boolean;
  restarts: number;
  /** Why it is missing or failed, the version mismatch, or the last restart. */
  detail: string | null;
}

export interface RunnerContext {
  sandbox: Sandbox;
  workspaceDir: string;
  env: Record<string, string>;
  network: NetworkPolicy;
  database: string;
  onLog?(service: string, line: string): void;
  signal?: AbortSignal;
}

export interface RunnerLimits extends SupervisionLimits {
  /** Ports handed to services of this server process, so two host-network services never share one. */
  portsInUse: Set<number>;
}

export class ServiceRunner {
  readonly status: ServiceStatus;
  readonly #definition: BackingService | undefined;
  readonly #context: RunnerContext;
  readonly #limits: RunnerLimits;
  readonly #process: SupervisedProcess;
  #instance: ServiceInstance | undefined;
  /** The server a previous NixSpace server left running in the workspace's agent, taken back. */
  #kept: ProcessInfo | undefined;
  #serviceLog: ServiceLog | undefined;
  #mismatch: string | null = null;

  constructor(
    name: string,
    wantedVersion: string | null,
    definition: BackingService | undefined,
    context: RunnerContext,
    limits: RunnerLimits,
  ) {
    this.status = {
      name,
      wantedVersion,
      version: null,
      status: 'missing',
      port: null,
      versionMismatch: false,
      restarts: 0,
      detail: null,
    };
    this.#definition = definition;
    this.#context = context;
    this.#limits = limits;
    this.#process = new SupervisedProcess({
      sandbox: context.sandbox,
      group: this.#processId,
      limits,
      onLine: (line) => {
        context.onLog?.(name, line);
        this.#serviceLog?.write(line);
      },
      onExit: (how) => this.#onExit(how),
    });
  }

  /** Connection settings while the service is up (or coming back up). */
  get exports(): Record<string, string> {
    const up = this.status.status === 'running' || this.status.status === 'restarting';
    return up && this.#instance !== undefined ? this.#definition!.exports(this.#instance) : {};
  }

  /** Resolves once the service runs, or its status says why not; rejects only when aborted. */
  async start(): Promise<void> {
    const definition = this.#definition;
    if (definition === undefined) {
      this.status.detail = `NixSpace cannot run ${this.status.name} services`;
      return;
    }
    const signal = AbortSignal.any([
      this.#process.signal,
      ...(this.#context.signal ? [this.#context.signal] : []),
    ]);
    try {
      this.#kept = await AgentProcess.running(this.#context.sandbox.agent, this.#processId);
      const instance = await this.#prepare(definition, signal);
      if (instance === undefined) return;
      this.#instance = instance;
      // One that runs on already has its data.
      if (this.#kept === undefined) await definition.init?.(instance);
      await this.#launch(instance, signal);
      await definition.afterReady?.(instance);
      this.status.status = 'running';
      this.status.detail = this.#mismatch;
    } catch (error) {
      await this.#process.kill();
      await this.#stopLogWriter();
      this.#releasePort();
      if (this.#context.signal?.aborted) throw this.#context.signal.reason;
      this.status.status = this.#process.stopped ? 'stopped' : 'failed';
      this.status.detail = describeError(error);
    }
  }

  async #prepare(definition: BackingService, signal: AbortSignal): Promise<ServiceInstance | undefined> {
    const { sandbox, workspaceDir, env } = this.#context;
    const binaries = await locateBinaries(definition, { sandbox, path: env.PATH, signal });
    const choice = chooseBinary(binaries, this.status.wantedVersion);
    if (choice === undefined) {
      const pkg = definition.debianPackage;
      this.status.detail =
        `no ${definition.program} on the workspace's PATH or in the host's standard locations: ` +
        `install the Debian package '${pkg}' (apt-get install ${pkg}) or add it to the environment`;
      return undefined;
    }
    const { binary, mismatch } = choice;
    this.status.version = binary.version;
    this.status.versionMismatch = mismatch;
    this.#mismatch = mismatch
      ? `wanted ${this.status.name} ${this.status.wantedVersion}, provided ${binary.version} (${binary.program})`
      : null;

    const serviceDir = join(
      workspaceDir,
      '.nixspace',
      'services',
      `${this.status.name}-${definition.dataVersion(binary.version)}`,
    );
    const dataDir = join(serviceDir, 'data');
    await mustRun(
      sandbox,
      ['mkdir', '-p', '-m', '700', serviceDir, dataDir],
      signal,
      'create the service dir',
    );
    const port = await this.#port(definition, serviceDir, signal);
    this.status.port = port;
    // A server that refuses root gets an account of its own only where programs run as root.
    const account =
      definition.accounts === undefined || sandbox.unprivileged
        ? undefined
        : await serviceAccount(definition.accounts);
    this.#serviceLog = await ServiceLog.open(
      sandbox,
      `${this.#processId}-log`,
      join(serviceDir, 'service.log'),
    );
    return {
      sandbox,
      version: binary.version,
      binDir: binary.binDir,
      serviceDir,
      dataDir,
      port,
      database: this.#context.database,
      account,
      signal,
    };
  }

  /**
   * Under network 'none' the sandbox has its own loopback, so the default port never collides
   * with another workspace's. Sharing the host's network, the service gets a free port, recorded
   * in the service dir so that it keeps it across restarts while it stays free.
   */
  async #port(definition: BackingService, serviceDir: string, signal: AbortSignal): Promise<number> {
    if (this.#context.network === 'none') return definition.defaultPort;
    const { sandbox } = this.#context;
    const file = join(serviceDir, 'port');
    const recorded = Number((await execInSandbox(sandbox, ['cat', file], { signal })).stdout.trim());
    const { portsInUse } = this.#limits;
    // The server that runs on holds its port: it is the recorded one, not free.
    if (this.#kept !== undefined && Number.isInteger(recorded) && recorded > 1024 && recorded < 65536) {
      portsInUse.add(recorded);
      return recorded;
    }
    let port = await freePort(
      Number.isInteger(recorded) && recorded > 1024 && recorded < 65536 ? recorded : undefined,
    );
    while (portsInUse.has(port)) port = await freePort();
    portsInUse.add(port);
    if (port !== recorded) {
      await mustRun(
        sandbox,
        ['sh', '-c', 'printf "%s\\n" "$1" > "$0"', file, String(port)],
        signal,
        'record the port',
      );
    }
    return port;
  }

  /** The agent's name for this service's server, and the command group it runs in. */
  get #processId(): string {
    return `service-${this.status.name}`;
  }

  #agent(): AgentLink {
    return this.#context.sandbox.agent;
  }

  /** Spawns the server (or takes back the one that runs on) and resolves once it is ready. */
  async #launch(instance: ServiceInstance, signal: AbortSignal): Promise<void> {
    const definition = this.#definition!;
    const { sandbox, env } = this.#context;
    const agent = this.#agent();
    const kept = this.#kept;
    this.#kept = undefined;
    if (kept !== undefined) {
      this.#process.watch(AgentProcess.adopt(agent, kept));
    } else {
      const user =
        instance.account === undefined ? undefined : { uid: instance.account.uid, gid: instance.account.gid };
      // Where programs run as root, one that refuses root is that account in a namespace of its own.
      const asUser = user !== undefined ? userNamespaceArgv(user) : [];
      // In a group of its own, its process group the agent signals: a terminal's ^C never reaches it.
      const child = await AgentProcess.respawn(agent, {
        id: this.#processId,
        argv: [...asUser, ...definition.argv(instance)],
        cwd: instance.serviceDir,
        env,
        output: { mode: 'ring', bytes: 64 * 1024 },
        group: this.#processId,
      });
      this.#process.watch(child);
    }
    const ready = async () =>
      (await execInSandbox(sandbox, definition.readyProbe(instance), { signal, timeoutMs: 5000 })).code === 0;
    await this.#process.waitReady(ready, 100, signal);
  }

  #onExit(how: string): void {
    this.#process.log(`nixspace: ${this.status.name} ${how}`);
    // Only a service that was up is restarted; one that never got ready has its start fail.
    if (this.status.status !== 'running' || this.#process.stopped) return;
    const instance = this.#instance!;
    void this.#process.restart(how, {
      restarts: () => this.status.restarts,
      restarting: (restarts, detail) => {
        this.status.restarts = restarts;
        this.status.status = 'restarting';
        this.status.detail = detail;
      },
      relaunch: () => this.#launch(instance, this.#process.signal),
      running: () => {
        this.status.status = 'running';
        this.status.detail = this.#mismatch;
      },
      gaveUp: (detail) => {
        this.status.status = 'failed';
        this.status.detail = detail;
      },
    });
  }

  /** Graceful signal, then SIGKILL after the grace period; resolves when nothing of it runs. */
  async stop(): Promise<void> {
    // To the server alone (postgres's fast shutdown is SIGINT to the postmaster, not its backends).
    await this.#process.stop(new NixSpaceError('INTERRUPTED', `${this.status.name} is stopping`), (child) =>
      child.signal(this.#definition!.stopSignal as AgentSignal, 'process'),
    );
    if (this.status.status !== 'missing' && this.status.status !== 'failed') this.status.status = 'stopped';
    await this.#stopLogWriter();
    this.#releasePort();
  }

  /**
   * This NixSpace server stops; the service runs on in the workspace's agent, with its data and
   * its clients' connections, for the next server to take back (start() finds it).
   */
  async release(): Promise<void> {
    this.#process.release(new NixSpaceError('INTERRUPTED', 'the server is stopping'));
    await this.#stopLogWriter();
  }

  #releasePort(): void {
    if (this.#context.network !== 'none' && this.status.port !== null)
      this.#limits.portsInUse.delete(this.status.port);
  }

  async #stopLogWriter(): Promise<void> {
    const log = this.#serviceLog;
    this.#serviceLog = undefined;
    await log?.close();
  }
}

async function mustRun(sandbox: Sandbox, argv: string[], signal: AbortSignal, what: string): Promise<void> {
  const result = await execInSandbox(sandbox, argv, { signal });
  if (result.code !== 0) {
    throw new NixSpaceError('SANDBOX_FAILED', `cannot ${what}`, { detail: result.stderr.trim() });
  }
}
