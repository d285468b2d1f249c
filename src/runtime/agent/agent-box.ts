// A box that is nobody's child and runs the workspace agent as its first process (a gVisor box, a
// microVM): one start sequence and one way back after a server restart for every such driver, and
// the sandbox they all make. Start listens on the agent's socket before the box exists (the agent
// may dial at once), boots the box, and waits for the agent's hello or the box's end, whichever is
// first; any failure ends the box and closes the link. Attach listens again and waits for the agent
// of a box that still runs to dial in.
import { join } from 'node:path';
import { NixSpaceError } from '../../errors.js';
import type { CommandGroup, Sandbox, SandboxExit, SandboxSpec } from '../sandbox.js';
import { sandboxEnv } from '../sandbox-env.js';
import { resolveWorkspaceDir } from '../workspace-dir.js';
import { AgentLink, type AgentLinkOptions } from './agent-link.js';
import { AGENT_SOCKET_NAME, type AgentProgram, agentProgram } from './agent-program.js';

/** A watch on a box from the host: settles when it has gone; `check` looks at once. */
export interface BoxWatch {
  exited: Promise<SandboxExit>;
  check(): void;
}

/** The sandbox of an agent box: the driver says how the box itself ends. */
export abstract class AgentBoxSandbox implements Sandbox {
  readonly id: string;
  readonly unprivileged = true;
  readonly exited: Promise<SandboxExit>;
  abstract readonly pid: number | undefined;
  readonly #watch: BoxWatch;
  #stopping: Promise<void> | undefined;

  constructor(
    readonly spec: SandboxSpec,
    readonly agent: AgentLink,
    watch: BoxWatch,
  ) {
    this.id = spec.id;
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

  /** The box's processes are its own kernel's: the host has no cgroup per group of them. */
  commandGroup(): CommandGroup | undefined {
    return undefined;
  }

  stop(): Promise<void> {
    this.#stopping ??= this.stopNow();
    return this.#stopping;
  }

  /** Ends every process of the box and what it holds on the host. */
  protected abstract killBox(): Promise<void>;

  /** True once the box is being ended (stopped, or saved and ended). */
  protected get ending(): boolean {
    return this.#stopping !== undefined;
  }

  /** The box ends by `ending` instead (saved whole, say); `stop` then waits for that. */
  protected endsBy(ending: Promise<void>): void {
    this.#stopping = ending;
  }

  /** Waits for the box to be seen gone: at once, rather than at the watch's next look. */
  protected async gone(): Promise<void> {
    this.#watch.check();
    await this.exited;
  }

  /** Kills the box, closes its link and waits to see it gone (what `stop` does, once). */
  protected async stopNow(): Promise<void> {
    await this.killBox();
    await this.agent.close();
    await this.gone();
  }
}

export interface AgentBoxStart<S extends AgentBoxSandbox> {
  spec: SandboxSpec;
  signal: AbortSignal | undefined;
  link?: AgentLinkOptions;
  /** How long the agent's first hello may take. */
  connectMs: number;
  /** Boots the box with `program` as its first process and makes its sandbox. */
  boot(box: { spec: SandboxSpec; program: AgentProgram; agentSocket: string; link: AgentLink }): Promise<S>;
  /** What the box said, for an error: where its log is, or its console's last lines. */
  describe(): Promise<string>;
  /** Ends whatever the boot left of the box. */
  destroy(): Promise<void>;
}

export async function startAgentBox<S extends AgentBoxSandbox>(start: AgentBoxStart<S>): Promise<S> {
  const workspaceDir = await resolveWorkspaceDir(start.spec.workspaceDir);
  start.signal?.throwIfAborted();
  const spec = { ...start.spec, workspaceDir };
  const program = agentProgram();
  const agentSocket = join(spec.agentDir, AGENT_SOCKET_NAME);
  const link = await AgentLink.listen(agentSocket, spec.user, start.link);
  try {
    const sandbox = await start.boot({ spec, program, agentSocket, link });
    await Promise.race([
      link
        .connected({ timeoutMs: start.connectMs, ...(start.signal ? { signal: start.signal } : {}) })
        .catch(async (error: unknown) => {
          if (!(error instanceof NixSpaceError)) throw error;
          throw new NixSpaceError(error.code, error.message, { detail: await start.describe() });
        }),
      sandbox.exited.then(async () => {
        throw new NixSpaceError('SANDBOX_FAILED', `sandbox ${spec.id} did not start`, {
          detail: `its box ended before its agent connected: ${await start.describe()}`,
        });
      }),
    ]);
    return sandbox;
  } catch (error) {
    await start.destroy().catch(() => undefined);
    await link.close();
    throw error;
  }
}

/**
 * Takes back a box that still runs: listens on its agent's socket again and waits `reconnectMs`
 * for the agent to dial in; undefined (the link closed) when it does not.
 */
export async function attachAgentBox<S extends AgentBoxSandbox>(
  spec: SandboxSpec,
  options: { link?: AgentLinkOptions; reconnectMs: number },
  make: (spec: SandboxSpec, link: AgentLink) => Promise<S> | S,
): Promise<S | undefined> {
  const workspaceDir = await resolveWorkspaceDir(spec.workspaceDir);
  const link = await AgentLink.listen(join(spec.agentDir, AGENT_SOCKET_NAME), spec.user, options.link);
  try {
    await link.connected({ timeoutMs: options.reconnectMs });
  } catch {
    await link.close();
    return undefined;
  }
  return make({ ...spec, workspaceDir }, link);
}
