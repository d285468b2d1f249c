// UNSAFE: the `--unsafe-no-sandbox` driver. Processes run directly on the host as the server's
// user, in the workspace dir, with the host's network and full view of the host: a workspace can
// read and write anything the server can. It exists for hosts without bubblewrap and for
// development. The agent runs as a detached host process, and everything it starts is its child.
// It still confines the process tree to a cgroup when it can (limits, and a stop that kills
// double-forked daemons too); without cgroups it finds the tree by an environment marker, which a
// process can shed.
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { NixSpaceError } from '../../../errors.js';
import { AGENT_CGROUPS_ENV, AGENT_TRANSPORT_ENV } from '../../../wire/agent.js';
import { AgentLink } from '../../agent/agent-link.js';
import { AGENT_SOCKET_NAME, agentProgram } from '../../agent/agent-program.js';
import { type CgroupHost, detectCgroupHost } from '../../cgroups/cgroup-host.js';
import type { SandboxCgroup } from '../../cgroups/sandbox-cgroup.js';
import { killUntilGone, pidsWithEnv } from '../../host/host-processes.js';
import { shellQuote as q } from '../../host/shell-quote.js';
import type {
  CommandGroup,
  DriverCapabilities,
  Sandbox,
  SandboxDriver,
  SandboxExit,
  SandboxSpec,
} from '../../sandbox.js';
import { sandboxEnv } from '../../sandbox-env.js';
import { assertSandboxId } from '../../sandbox-id.js';
import { resolveWorkspaceDir } from '../../workspace-dir.js';

/** Set in every process the driver starts, so `stop` and `cleanup` can find them without cgroups. */
export const sandboxMarkerEnv = 'NIXSPACE_SANDBOX_ID';

export interface ProcessDriverOptions {
  /** Defaults to the host's detected cgroups. */
  cgroups?: CgroupHost;
}

export class ProcessDriver implements SandboxDriver {
  readonly name = 'process';
  readonly #cgroups: CgroupHost;

  constructor(options: ProcessDriverOptions = {}) {
    this.#cgroups = options.cgroups ?? detectCgroupHost();
  }

  get capabilities(): DriverCapabilities {
    return { isolation: false, unprivileged: false, limits: this.#cgroups.limits, networkPolicies: ['host'] };
  }

  async probe(): Promise<void> {
    // Nothing to install: it only needs /bin/sh.
  }

  async start(spec: SandboxSpec, options: { signal?: AbortSignal } = {}): Promise<Sandbox> {
    assertSandboxId(spec.id);
    if (!this.capabilities.networkPolicies.includes(spec.network)) {
      // Refusing beats silently granting the host network to a workspace configured for none.
      throw new NixSpaceError(
        'SANDBOX_UNAVAILABLE',
        `the process driver cannot apply network policy '${spec.network}': it has only the host network`,
      );
    }
    const workspaceDir = await resolveWorkspaceDir(spec.workspaceDir);
    options.signal?.throwIfAborted();
    const cgroup = this.#cgroups.available ? this.#cgroups.group(spec.id) : undefined;
    await cgroup?.create(spec.limits);
    const program = agentProgram();
    const socketPath = join(spec.agentDir, AGENT_SOCKET_NAME);
    const link = await AgentLink.listen(socketPath, undefined);
    const sandbox = new ProcessSandbox({ ...spec, workspaceDir }, cgroup, link);
    try {
      // Joins the cgroups, then becomes the agent.
      const gone = `{ echo ${q(`nixspace: sandbox ${spec.id} is not running`)} >&2; exit 125; }`;
      const join = (cgroup?.joinScript() ?? []).map((line) => `{ ${line}; } 2>/dev/null || ${gone}`);
      spawn('/bin/sh', ['-c', [...join, 'exec "$@"'].join('\n'), 'nixspace-sandbox', ...program.argv], {
        cwd: workspaceDir,
        env: sandbox.env({
          [AGENT_TRANSPORT_ENV]: `unix:${socketPath}`,
          // The groups the agent makes for `group:` are children of the sandbox's own cgroups.
          [AGENT_CGROUPS_ENV]: (cgroup?.dirs ?? []).join(':'),
        }),
        stdio: 'ignore',
        detached: true,
      }).unref();
      await link.connected({ timeoutMs: 30_000, ...(options.signal ? { signal: options.signal } : {}) });
      return sandbox;
    } catch (error) {
      await sandbox.stop();
      throw error;
    }
  }

  /** The agent an earlier server process left running for this spec, when it dials in again. */
  async attach(spec: SandboxSpec): Promise<Sandbox | undefined> {
    assertSandboxId(spec.id);
    if ((await pidsWithEnv(sandboxMarkerEnv, spec.id)).length === 0) {
      return undefined;
    }
    const workspaceDir = await resolveWorkspaceDir(spec.workspaceDir);
    const link = await AgentLink.listen(join(spec.agentDir, AGENT_SOCKET_NAME), undefined);
    try {
      await link.connected({ timeoutMs: 10_000 });
    } catch {
      await link.close();
      return undefined;
    }
    const cgroup = this.#cgroups.available ? this.#cgroups.group(spec.id) : undefined;
    return new ProcessSandbox({ ...spec, workspaceDir }, cgroup, link);
  }

  async cleanup(id: string): Promise<void> {
    assertSandboxId(id);
    await killSandboxProcesses(id, this.#cgroups.available ? this.#cgroups.group(id) : undefined);
  }
}

class ProcessSandbox implements Sandbox {
  readonly id: string;
  readonly unprivileged = false;
  /** No init process: the sandbox is the agent and the processes it starts. */
  readonly pid = undefined;
  readonly exited: Promise<SandboxExit>;
  readonly #spec: SandboxSpec;
  readonly #cgroup: SandboxCgroup | undefined;
  #stopping: Promise<void> | undefined;
  #resolveExited: (exit: SandboxExit) => void = () => {};

  constructor(
    spec: SandboxSpec,
    cgroup: SandboxCgroup | undefined,
    readonly agent: AgentLink,
  ) {
    this.id = spec.id;
    this.#spec = spec;
    this.#cgroup = cgroup;
    this.exited = new Promise((resolve) => {
      this.#resolveExited = resolve;
    });
  }

  get workspaceDir(): string {
    return this.#spec.workspaceDir;
  }

  env(extra?: Record<string, string>): Record<string, string> {
    return { ...sandboxEnv(this.#spec, extra), [sandboxMarkerEnv]: this.id };
  }

  /** Without cgroups there is no group: a job is then found through its process tree. */
  commandGroup(name: string): CommandGroup | undefined {
    return this.#cgroup?.commandGroup(name);
  }

  stop(): Promise<void> {
    this.#stopping ??= killSandboxProcesses(this.id, this.#cgroup).then(async () => {
      await this.agent.close();
      this.#resolveExited({ code: null, signal: 'SIGKILL' });
    });
    return this.#stopping;
  }
}

async function killSandboxProcesses(id: string, cgroup: SandboxCgroup | undefined): Promise<void> {
  if (cgroup?.exists()) {
    await cgroup.killAll();
    await cgroup.remove();
  }
  try {
    await killUntilGone(() => pidsWithEnv(sandboxMarkerEnv, id), { what: `sandbox ${id}` });
  } catch (error) {
    throw new NixSpaceError('SANDBOX_FAILED', `cannot kill the processes of sandbox ${id}`, {
      detail: String(error),
      cause: error,
    });
  }
}
