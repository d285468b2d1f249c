// QEMU microVMs as a sandbox driver: each workspace a guest with its own Linux kernel, the host's
// /usr and the workspace shared over 9p, and the workspace agent as the guest's first process,
// its stream on a virtio-serial port that QEMU connects to the server's agent socket. The
// strongest boundary NixSpace has (a hypervisor), and under TCG the slowest to start. A box's QEMU
// is nobody's child: it outlives the server, and the next server takes it back by id.
//
// QEMU 7.2 cannot save a guest while 9p is mounted (see README.md), so boxes do not hibernate in
// memory: hibernating a workspace stops its box and keeps its files, as on bubblewrap.
import { join } from 'node:path';
import { NixSpaceError } from '../../../errors.js';
import { AgentLink } from '../../agent/agent-link.js';
import { AGENT_SOCKET_NAME, agentProgram } from '../../agent/agent-program.js';
import type { DriverCapabilities, Sandbox, SandboxDriver, SandboxSpec } from '../../sandbox.js';
import { assertSandboxId } from '../../sandbox-id.js';
import { resolveWorkspaceDir } from '../../workspace-dir.js';
import { openWayForBoxUser } from './host-path-access.js';
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
    const workspaceDir = await resolveWorkspaceDir(spec.workspaceDir);
    options.signal?.throwIfAborted();
    const program = agentProgram();
    const agentSocket = join(spec.agentDir, AGENT_SOCKET_NAME);
    const boxSpec: MicrovmSpec = {
      ...spec,
      workspaceDir,
      readOnlyPaths: [...(spec.readOnlyPaths ?? []), ...program.readOnlyPaths],
      init: program.argv,
      agentSocket,
    };
    const link = await AgentLink.listen(agentSocket, spec.user, { greeting: true });
    try {
      await openWayForBoxUser(boxSpec);
      const box = await this.#host.boot(boxSpec, options.signal ? { signal: options.signal } : {});
      const sandbox = new MicrovmSandbox({ ...spec, workspaceDir }, box, link);
      await Promise.race([
        link
          .connected({ timeoutMs: agentConnectMs, ...(options.signal ? { signal: options.signal } : {}) })
          .catch(async (error: unknown) => {
            if (!(error instanceof NixSpaceError)) throw error;
            throw new NixSpaceError(error.code, error.message, {
              detail: `the guest printed: ${(await box.consoleText()).slice(-2000)}`,
            });
          }),
        sandbox.exited.then(async () => {
          throw new NixSpaceError('SANDBOX_FAILED', `sandbox ${spec.id} did not start`, {
            detail: `its box ended before its agent connected: ${(await box.consoleText()).slice(-2000)}`,
          });
        }),
      ]);
      return sandbox;
    } catch (error) {
      await this.#host.destroy(spec.id).catch(() => undefined);
      await link.close();
      throw error;
    }
  }

  async attach(spec: SandboxSpec): Promise<Sandbox | undefined> {
    assertSandboxId(spec.id);
    const box = await this.#host.find(spec.id);
    if (box === undefined || (await box.state()) !== 'running') return undefined;
    const workspaceDir = await resolveWorkspaceDir(spec.workspaceDir);
    const agentSocket = join(spec.agentDir, AGENT_SOCKET_NAME);
    const link = await AgentLink.listen(agentSocket, spec.user, { greeting: true });
    try {
      await link.connected({ timeoutMs: agentReconnectMs });
    } catch {
      await link.close();
      return undefined;
    }
    return new MicrovmSandbox({ ...spec, workspaceDir }, box, link);
  }

  /** Ends the box of this id, running or left by a crash: QEMU, its cgroups, its state. */
  async cleanup(id: string): Promise<void> {
    assertSandboxId(id);
    await this.#host.destroy(id);
  }
}
