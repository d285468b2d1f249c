// A running microVM box as a workspace sandbox: its agent's link, its QEMU's host pid, and a stop
// that ends QEMU and removes what the box had on the host (cgroups, state, initrd).
import type { AgentLink } from '../../agent/agent-link.js';
import { watchExit } from '../../host/box-exit.js';
import type { CommandGroup, Sandbox, SandboxExit, SandboxSpec } from '../../sandbox.js';
import { sandboxEnv } from '../../sandbox-env.js';
import type { MicrovmBox } from './microvm-box.js';

export class MicrovmSandbox implements Sandbox {
  readonly id: string;
  readonly unprivileged = true;
  readonly exited: Promise<SandboxExit>;
  readonly #watch: { check(): void };
  #stopping: Promise<void> | undefined;

  constructor(
    readonly spec: SandboxSpec,
    readonly box: MicrovmBox,
    readonly agent: AgentLink,
  ) {
    this.id = spec.id;
    // QEMU is nobody's child once started (it outlives the server): its record tells it apart.
    const watch = watchExit(async () => (await box.state()) === 'running');
    agent.onConnected(() => watch.check());
    this.exited = watch.exited;
    this.#watch = watch;
  }

  /** Host pid of the box's QEMU. */
  get pid(): number | undefined {
    return this.box.pid;
  }

  get workspaceDir(): string {
    return this.spec.workspaceDir;
  }

  env(extra?: Record<string, string>): Record<string, string> {
    return sandboxEnv(this.spec, extra);
  }

  /** The box's processes are the guest kernel's: the host has no cgroup per group of them. */
  commandGroup(): CommandGroup | undefined {
    return undefined;
  }

  stop(): Promise<void> {
    this.#stopping ??= this.#stop();
    return this.#stopping;
  }

  async #stop(): Promise<void> {
    await this.box.stop();
    await this.agent.close();
    this.#watch.check();
    await this.exited;
  }
}
