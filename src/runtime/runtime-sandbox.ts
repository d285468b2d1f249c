// The lifecycle rules every sandbox obeys, whatever the driver: start once, stop once (concurrent
// stops share one promise), no agent before start, and a sandbox whose agent stops answering is
// ended (its exit says why). Drivers stay small because they do not repeat these checks.
import { NixSpaceError } from '../errors.js';
import type { AgentLink } from './agent/agent-link.js';
import { AgentWatchdog } from './agent/agent-watchdog.js';
import type { CommandGroup, Sandbox, SandboxDriver, SandboxExit, SandboxSpec } from './sandbox.js';
import { sandboxEnv } from './sandbox-env.js';

export type SandboxState =
  | 'new'
  | 'starting'
  | 'running'
  /** The init died on its own; `stop()` still cleans up what is left. */
  | 'exited'
  | 'stopping'
  | 'stopped'
  /** `start` failed; nothing is left running. */
  | 'failed';

export interface RuntimeSandboxOptions {
  /** A running sandbox whose agent answers nothing this long is ended; unset: never. */
  agentDeadlineMs?: number;
}

export class RuntimeSandbox implements Sandbox {
  readonly #driver: SandboxDriver;
  readonly #spec: SandboxSpec;
  readonly #options: RuntimeSandboxOptions;
  #watchdog: AgentWatchdog | undefined;
  #unresponsive: string | undefined;
  #state: SandboxState = 'new';
  #inner: Sandbox | undefined;
  #starting: Promise<void> | undefined;
  #stopping: Promise<void> | undefined;
  #resolveExited: (exit: SandboxExit) => void = () => {};
  readonly exited: Promise<SandboxExit>;

  /** Every program already runs as the unprivileged workspace user (see DriverCapabilities). */
  get unprivileged(): boolean {
    return this.#driver.capabilities.unprivileged;
  }

  constructor(driver: SandboxDriver, spec: SandboxSpec, options: RuntimeSandboxOptions = {}) {
    this.#driver = driver;
    this.#spec = spec;
    this.#options = options;
    this.exited = new Promise((resolve) => {
      this.#resolveExited = resolve;
    });
  }

  /** Creates and starts a sandbox in one step. */
  static async start(
    driver: SandboxDriver,
    spec: SandboxSpec,
    options: RuntimeSandboxOptions & { signal?: AbortSignal } = {},
  ): Promise<RuntimeSandbox> {
    const { signal, ...rest } = options;
    const sandbox = new RuntimeSandbox(driver, spec, rest);
    await sandbox.start(signal ? { signal } : {});
    return sandbox;
  }

  /** The running sandbox an earlier server process left for this spec, if its agent answers. */
  static async attach(
    driver: SandboxDriver,
    spec: SandboxSpec,
    options: RuntimeSandboxOptions = {},
  ): Promise<RuntimeSandbox | undefined> {
    const inner = await driver.attach(spec);
    if (inner === undefined) return undefined;
    const sandbox = new RuntimeSandbox(driver, spec, options);
    sandbox.#starting = Promise.resolve();
    sandbox.#running(inner);
    return sandbox;
  }

  get id(): string {
    return this.#spec.id;
  }

  get pid(): number | undefined {
    return this.#inner?.pid;
  }

  /** Its agent's link; after stop a closed one, on which every request fails. */
  get agent(): AgentLink {
    if (this.#inner === undefined) throw new NixSpaceError('CONFLICT', `sandbox ${this.id} is not started`);
    return this.#inner.agent;
  }

  get workspaceDir(): string {
    return this.#spec.workspaceDir;
  }

  env(extra?: Record<string, string>): Record<string, string> {
    return sandboxEnv(this.#spec, extra);
  }

  get state(): SandboxState {
    return this.#state;
  }

  /** Starts the sandbox; a second call returns the first call's promise. */
  start(options: { signal?: AbortSignal } = {}): Promise<void> {
    if (this.#stopping !== undefined) return Promise.reject(this.#stoppedError());
    this.#starting ??= this.#start(options);
    return this.#starting;
  }

  async #start(options: { signal?: AbortSignal }): Promise<void> {
    this.#state = 'starting';
    try {
      this.#inner = await this.#driver.start(this.#spec, options);
    } catch (error) {
      this.#state = 'failed';
      this.#resolveExited({ code: null, signal: null });
      throw error;
    }
    this.#running(this.#inner);
  }

  #running(inner: Sandbox): void {
    this.#inner = inner;
    // A stop() that arrived while starting has already switched the state; leave it alone.
    if (this.#state === 'starting' || this.#state === 'new') this.#state = 'running';
    const { agentDeadlineMs } = this.#options;
    if (agentDeadlineMs !== undefined && agentDeadlineMs > 0 && this.#state === 'running') {
      this.#watchdog = new AgentWatchdog(
        inner.agent,
        { deadlineMs: agentDeadlineMs },
        (reason) => void this.#endUnresponsive(inner, reason),
      );
    }
    void inner.exited.then((exit) => {
      this.#watchdog?.stop();
      if (this.#state === 'running') this.#state = 'exited';
      this.#resolveExited(
        this.#unresponsive === undefined ? exit : { ...exit, unresponsive: this.#unresponsive },
      );
    });
  }

  /** The agent stopped answering: the box is ended, and its exit says why. */
  async #endUnresponsive(inner: Sandbox, reason: string): Promise<void> {
    if (this.#state !== 'running') return;
    this.#unresponsive = reason;
    await inner.stop().catch(() => undefined);
  }

  /** A command group stays reachable after the sandbox ended, so what is left can be cleared. */
  commandGroup(name: string): CommandGroup | undefined {
    return this.#inner?.commandGroup(name);
  }

  /** Kills everything in the sandbox; every call returns the same promise. */
  stop(): Promise<void> {
    this.#stopping ??= this.#stop();
    return this.#stopping;
  }

  async #stop(): Promise<void> {
    this.#state = 'stopping';
    this.#watchdog?.stop();
    try {
      await this.#starting?.catch(() => undefined);
      await this.#inner?.stop();
    } finally {
      this.#state = 'stopped';
      if (this.#inner === undefined) this.#resolveExited({ code: null, signal: null });
    }
  }

  #stoppedError(): NixSpaceError {
    return new NixSpaceError('CONFLICT', `sandbox ${this.id} is stopped`);
  }
}
