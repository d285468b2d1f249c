// QEMU microVMs as a sandbox driver: each workspace a guest with its own Linux kernel, the host's
// /usr and the workspace shared over 9p, and the workspace agent as the guest's first process,
// its stream on a virtio-serial port that QEMU connects to the server's agent socket. The
// strongest boundary NixSpace has (a hypervisor), and under TCG the slowest to start. A box's QEMU
// is nobody's child: it outlives the server, and the next server takes it back by id.
//
// QEMU 7.2 cannot save a guest while 9p is mounted (see README.md), so boxes do not hibernate in
// memory: hibernating a workspace stops its box and keeps its files, as on bubblewrap.
import { NixSpaceError } from '../../../errors.js';
import { attachAgentBox, startAgentBox } from '../../agent/agent-box.js';
import { agentProgram } from '../../agent/agent-program.js';
import type { DriverCapabilities, Sandbox, SandboxDriver, SandboxSpec } from '../../sandbox.js';
import { assertSandboxId } from '../../sandbox-id.js';
import { openWayForBoxUser } from './host-path-access.js';
import type { MicrovmBox } from './microvm-box.js';
import { MicrovmHost, type MicrovmHostOptions } from './microvm-host.js';
import { MicrovmSandbox } from './microvm-sandbox.js';
import type { MicrovmSpec } from './microvm-spec.js';

/** The agent's first hello: the guest kernel booting under TCG, then Node starting from 9p. */
const agentConnectMs = 240_000;
/** QEMU dials a new server within a second; an agent silent this long after that is not answering. */
const agentReconnectMs = 30_000;

export type MicrovmDriverOptions = MicrovmHostOptions;

export class MicrovmDriver implements SandboxDriver {
  readonly name = 'microvm';
  readonly #host: MicrovmHost;

  constructor(options: MicrovmDriverOptions) {
    this.#host = new MicrovmHost(options);
  }

  /**
   * The guest's RAM is its memory limit, its CPUs and a host cgroup quota its CPU limit, and a
   * cgroup in the guest its pids limit: all held by the box itself, whatever the host's cgroups.
   */
  get capabilities(): DriverCapabilities {
    return {
      isolation: true,
      unprivileged: true,
      limits: ['memory', 'cpu', 'pids'],
      networkPolicies: ['none', 'host'],
      // TCG translates every instruction and every file read crosses 9p: code-server takes
      // 30–60 s to answer in a box where it takes 5 s on the host.
      startupSlowdown: 6,
      socketDir: '/tmp',
    };
  }

  async probe(): Promise<void> {
    if (process.getuid?.() !== 0) {
      throw new NixSpaceError('SANDBOX_UNAVAILABLE', 'microVM boxes need NixSpace to run as root');
    }
    await this.#host.probe();
    agentProgram();
  }

  async start(spec: SandboxSpec, options: { signal?: AbortSignal } = {}): Promise<Sandbox> {
    assertSandboxId(spec.id);
    let box: MicrovmBox | undefined;
    return startAgentBox({
      spec,
      signal: options.signal,
      link: { greeting: true },
      connectMs: agentConnectMs,
      boot: async ({ spec: sandboxSpec, program, agentSocket, link }) => {
        const boxSpec: MicrovmSpec = {
          ...sandboxSpec,
          readOnlyPaths: [...(sandboxSpec.readOnlyPaths ?? []), ...program.readOnlyPaths],
          init: program.argv,
          agentSocket,
        };
        await openWayForBoxUser(boxSpec);
        box = await this.#host.boot(boxSpec, options.signal ? { signal: options.signal } : {});
        return new MicrovmSandbox(sandboxSpec, box, link);
      },
      describe: async () => `the guest printed: ${((await box?.consoleText()) ?? '').slice(-2000)}`,
      destroy: () => this.#host.destroy(spec.id),
    });
  }

  async attach(spec: SandboxSpec): Promise<Sandbox | undefined> {
    assertSandboxId(spec.id);
    const box = await this.#host.find(spec.id);
    if (box === undefined || (await box.state()) !== 'running') return undefined;
    return attachAgentBox(
      spec,
      { link: { greeting: true }, reconnectMs: agentReconnectMs },
      (found, link) => new MicrovmSandbox(found, box, link),
    );
  }

  /** Ends the box of this id, running or left by a crash: QEMU, its cgroups, its state. */
  async cleanup(id: string): Promise<void> {
    assertSandboxId(id);
    await this.#host.destroy(id);
  }
}
