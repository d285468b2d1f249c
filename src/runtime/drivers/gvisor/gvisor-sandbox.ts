// A running gVisor box as a workspace sandbox: its agent's link, its sentry's host pid, a stop
// that destroys the box (every process, runsc's state, its cgroups and its bundle), and a
// hibernate that saves it whole and ends it, its bundle kept for the restore.
import { NixSpaceError } from '../../../errors.js';
import { AgentBoxSandbox } from '../../agent/agent-box.js';
import type { AgentLink } from '../../agent/agent-link.js';
import { watchBoxExit } from '../../host/box-exit.js';
import type { SandboxSpec } from '../../sandbox.js';
import type { CheckpointImage, GvisorBoxes } from './gvisor-boxes.js';

export class GvisorSandbox extends AgentBoxSandbox {
  constructor(
    spec: SandboxSpec,
    /** Host pid of the box's sentry (runsc-sandbox, the box's kernel). */
    readonly pid: number,
    /** Inode of the sentry's pid namespace: tells it apart from a later process reusing its pid. */
    pidNamespace: number,
    agent: AgentLink,
    readonly boxes: GvisorBoxes,
  ) {
    super(spec, agent, watchBoxExit({ pid, pidNamespace }));
  }

  /**
   * Saves the box in imageDir and ends it: its agent lets go of the host first (a checkpoint
   * cannot keep that connection). If saving fails the box is destroyed (`stop`), as runsc may
   * have lost it already.
   */
  hibernate(imageDir: string): Promise<CheckpointImage> {
    if (this.ending) {
      return Promise.reject(new NixSpaceError('CONFLICT', `sandbox ${this.id} is stopped`));
    }
    const saved = this.#checkpoint(imageDir);
    this.endsBy(
      saved.then(
        () => undefined,
        () => this.stopNow(),
      ),
    );
    return saved;
  }

  protected async killBox(): Promise<void> {
    await this.boxes.destroy(this.id);
  }

  async #checkpoint(imageDir: string): Promise<CheckpointImage> {
    await this.agent.detach();
    const image = await this.boxes.checkpoint(this.id, imageDir);
    await this.gone();
    return image;
  }
}
