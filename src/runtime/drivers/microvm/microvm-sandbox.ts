// A running microVM box as a workspace sandbox: its agent's link, its QEMU's host pid, and a stop
// that ends QEMU and removes what the box had on the host (cgroups, state, initrd).
import { AgentBoxSandbox } from '../../agent/agent-box.js';
import type { AgentLink } from '../../agent/agent-link.js';
import { watchExit } from '../../host/box-exit.js';
import type { SandboxSpec } from '../../sandbox.js';
import type { MicrovmBox } from './microvm-box.js';

export class MicrovmSandbox extends AgentBoxSandbox {
  constructor(
    spec: SandboxSpec,
    readonly box: MicrovmBox,
    agent: AgentLink,
  ) {
    // QEMU is nobody's child once started (it outlives the server): its record tells it apart.
    super(
      spec,
      agent,
      watchExit(async () => (await box.state()) === 'running'),
    );
  }

  /** Host pid of the box's QEMU. */
  get pid(): number | undefined {
    return this.box.pid;
  }

  protected async killBox(): Promise<void> {
    await this.box.stop();
  }
}
