// A running gVisor box as a workspace sandbox: its agent's link, its sentry's host pid, and a stop
// that destroys the box (every process, runsc's state, its cgroups and its bundle).
import type { AgentLink } from '../../agent/agent-link.js';
import { watchBoxExit } from '../../host/box-exit.js';
import type { CommandGroup, Sandbox, SandboxExit, SandboxSpec } from '../../sandbox.js';
import { sandboxEnv } from '../../sandbox-env.js';
import type { GvisorBoxes } from './gvisor-boxes.js';

export class GvisorSandbox implements Sandbox {
  readonly id: string;
  readonly unprivileged = true;
  readonly exited: Promise<SandboxExit>;
  readonly #watch: { check(): void };
  #stopping: Promise<void> | undefined;

  constructor(
    readonly spec: SandboxSpec,
    /** Host pid of the box's sentry (runsc-sandbox, the box's kernel). */
    readonly pid: number,
    /** Inode of the sentry's pid namespace: tells it apart from a later process reusing its pid. */
    pidNamespace: number,
    readonly agent: AgentLink,
    readonly boxes: GvisorBoxes,
  ) {
    this.id = spec.id;
    const watch = watchBoxExit({ pid, pidNamespace });
    // An agent dialling again may follow the box's restart: look at once rather than within a second.
    agent.onConnected(() => watch.check());
    this.exited = watch.exited;
    this.#watch = watch;
  }

  get workspaceDir(): string {
    return this.spec.workspaceDir;
  }

  env(extra?: Record<string, string>): Record<string, string> {
    return sandboxEnv(this.spec, extra);
  }

  /** The sentry keeps the box's processes in cgroups of its own kernel: the host sees none per group. */
  commandGroup(): CommandGroup | undefined {
    return undefined;
  }

  stop(): Promise<void> {
    this.#stopping ??= this.#stop();
    return this.#stopping;
  }

  async #stop(): Promise<void> {
    await this.boxes.destroy(this.id);
    await this.agent.close();
    // The sentry is gone: see it now rather than at the next (unref'd) look.
    this.#watch.check();
    await this.exited;
  }
}
