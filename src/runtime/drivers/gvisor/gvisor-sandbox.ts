// A running gVisor box as a workspace sandbox: its agent's link, its sentry's host pid, a stop
// that destroys the box (every process, runsc's state, its cgroups and its bundle), and a
// hibernate that saves it whole and ends it, its bundle kept for the restore.
import { NixSpaceError } from '../../../errors.js';
import type { AgentLink } from '../../agent/agent-link.js';
import { watchBoxExit } from '../../host/box-exit.js';
import type { CommandGroup, Sandbox, SandboxExit, SandboxSpec } from '../../sandbox.js';
import { sandboxEnv } from '../../sandbox-env.js';
import type { CheckpointImage, GvisorBoxes } from './gvisor-boxes.js';

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

  /**
   * Saves the box in imageDir and ends it: its agent lets go of the host first (a checkpoint
   * cannot keep that connection). If saving fails the box is destroyed (`stop`), as runsc may
   * have lost it already.
   */
  hibernate(imageDir: string): Promise<CheckpointImage> {
    if (this.#stopping !== undefined) {
      return Promise.reject(new NixSpaceError('CONFLICT', `sandbox ${this.id} is stopped`));
    }
    const saved = this.#checkpoint(imageDir);
    this.#stopping = saved.then(
      () => undefined,
      () => this.#stop(),
    );
    return saved;
  }

  async #checkpoint(imageDir: string): Promise<CheckpointImage> {
    await this.agent.detach();
    const image = await this.boxes.checkpoint(this.id, imageDir);
    // The sentry is gone: see it now rather than at the next (unref'd) look.
    this.#watch.check();
    await this.exited;
    return image;
  }

  async #stop(): Promise<void> {
    await this.boxes.destroy(this.id);
    await this.agent.close();
    // The sentry is gone: see it now rather than at the next (unref'd) look.
    this.#watch.check();
    await this.exited;
  }
}
