// gVisor (Debian's runsc) as a sandbox driver: each workspace a box whose first process is the
// workspace agent, under a user-space kernel (the sentry) between the workspace and the host. For
// untrusted work: share-link editors, public repositories, the assistant's commands. Its ptrace
// platform makes metadata-heavy work slow, so it is a tier, not the default. A box is nobody's
// child: it outlives the server, and the next server takes it back by id. A box can hibernate
// with its memory (gvisor-hibernation.ts).
import { NixSpaceError } from '../../../errors.js';
import { attachAgentBox, startAgentBox } from '../../agent/agent-box.js';
import type { AgentLink } from '../../agent/agent-link.js';
import { agentProgram } from '../../agent/agent-program.js';
import { type CgroupHost, detectCgroupHost } from '../../cgroups/cgroup-host.js';
import { pidNamespaceOf } from '../../host/host-processes.js';
import type { DriverCapabilities, Sandbox, SandboxDriver, SandboxSpec } from '../../sandbox.js';
import { assertSandboxId } from '../../sandbox-id.js';
import { GvisorBoxes, type GvisorBoxesOptions } from './gvisor-boxes.js';
import { GvisorHibernation } from './gvisor-hibernation.js';
import { GvisorSandbox } from './gvisor-sandbox.js';

/** The agent's first dial: Node starting under the sentry on a busy machine. */
const agentConnectMs = 60_000;
/**
 * A running agent dials again within a second, but on a busy host its event loop may lag far
 * behind: its box is alive, and giving up on it would end the workspace's processes, so it gets
 * this long (an agent that truly hangs is the watchdog's, once the workspace is back).
 */
const agentReconnectMs = 30_000;

export interface GvisorDriverOptions extends GvisorBoxesOptions {
  /** Defaults to the host's detected cgroups (runsc puts each box in cgroups of its own). */
  cgroups?: CgroupHost;
}

export class GvisorDriver implements SandboxDriver {
  readonly name = 'gvisor';
  readonly #boxes: GvisorBoxes;
  readonly #cgroups: CgroupHost;
  readonly memoryHibernation: GvisorHibernation;

  constructor(options: GvisorDriverOptions) {
    this.#boxes = new GvisorBoxes(options);
    this.#cgroups = options.cgroups ?? detectCgroupHost();
    this.memoryHibernation = new GvisorHibernation(this.#boxes, (spec, pid, link) =>
      this.#sandbox(spec, pid, link),
    );
  }

  get capabilities(): DriverCapabilities {
    return {
      isolation: true,
      unprivileged: true,
      limits: this.#cgroups.limits,
      networkPolicies: ['none', 'host'],
      memoryHibernate: true,
    };
  }

  async probe(): Promise<void> {
    if (process.getuid?.() !== 0) {
      throw new NixSpaceError('SANDBOX_UNAVAILABLE', 'gVisor boxes need NixSpace to run as root');
    }
    await this.#boxes.probe();
    agentProgram();
  }

  async start(spec: SandboxSpec, options: { signal?: AbortSignal } = {}): Promise<Sandbox> {
    assertSandboxId(spec.id);
    let logFile = '';
    return startAgentBox({
      spec,
      signal: options.signal,
      connectMs: agentConnectMs,
      boot: async ({ spec: boxSpec, program, link }) => {
        const box = await this.#boxes.start({
          ...boxSpec,
          readOnlyPaths: [...(boxSpec.readOnlyPaths ?? []), ...program.readOnlyPaths],
          init: program.argv,
        });
        logFile = box.logFile;
        return this.#sandbox(boxSpec, box.pid, link);
      },
      describe: async () => `see ${logFile}`,
      destroy: () => this.#boxes.destroy(spec.id),
    });
  }

  async attach(spec: SandboxSpec): Promise<Sandbox | undefined> {
    assertSandboxId(spec.id);
    const box = await this.#boxes.find(spec.id);
    if (box?.state !== 'running') return undefined;
    return attachAgentBox(spec, { reconnectMs: agentReconnectMs }, (found, link) =>
      this.#sandbox(found, box.pid, link),
    );
  }

  /**
   * Destroys the box of this id, running or left by a crash: processes, state, cgroups, bundle,
   * and the image it hibernated to.
   */
  async cleanup(id: string): Promise<void> {
    assertSandboxId(id);
    await this.#boxes.destroy(id);
    await this.memoryHibernation.discard(id);
  }

  async #sandbox(spec: SandboxSpec, pid: number, link: AgentLink): Promise<GvisorSandbox> {
    const pidNamespace = await pidNamespaceOf(pid);
    if (pidNamespace === undefined) {
      throw new NixSpaceError('SANDBOX_FAILED', `sandbox ${spec.id}'s box is gone`);
    }
    return new GvisorSandbox(spec, pid, pidNamespace, link, this.#boxes);
  }
}
