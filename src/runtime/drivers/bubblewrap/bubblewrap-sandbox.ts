// A running bubblewrap sandbox. Its programs are its agent's children, so terminals, jobs and
// servers of one workspace see each other (same pids, same loopback) and share one set of limits.
import type { ChildProcess } from 'node:child_process';
import { rm } from 'node:fs/promises';
import { NixSpaceError } from '../../../errors.js';
import type { AgentLink } from '../../agent/agent-link.js';
import type { SandboxCgroup } from '../../cgroups/sandbox-cgroup.js';
import {
  delay,
  killQuietly,
  killUntilGone,
  pidNamespaceOf,
  pidsInNamespace,
} from '../../host/host-processes.js';
import type { CommandGroup, Sandbox, SandboxExit, SandboxSpec } from '../../sandbox.js';
import { sandboxEnv } from '../../sandbox-env.js';
import { removeBoxRecord } from './box-record.js';

export interface BubblewrapSandboxInit {
  spec: SandboxSpec;
  /** Host pid of the sandbox's pid 1 (bwrap's reaper). */
  pid: number;
  /** Inode of the sandbox's pid namespace: tells the init apart from a later process reusing its pid. */
  pidNamespace: number;
  /** The host process that became bwrap; undefined for a sandbox an earlier server started. */
  child: ChildProcess | undefined;
  exited: Promise<SandboxExit>;
  cgroup: SandboxCgroup | undefined;
  /** Host directory of the sandbox's own files (its /etc/passwd, its log), removed after stop. */
  stateDir: string;
  /** The link its agent dialled in on. */
  agent: AgentLink;
}

export class BubblewrapSandbox implements Sandbox {
  readonly id: string;
  readonly unprivileged = true;
  readonly pid: number;
  readonly exited: Promise<SandboxExit>;
  readonly agent: AgentLink;
  readonly #init: BubblewrapSandboxInit;
  #stopping: Promise<void> | undefined;

  constructor(init: BubblewrapSandboxInit) {
    this.id = init.spec.id;
    this.pid = init.pid;
    this.exited = init.exited;
    this.agent = init.agent;
    this.#init = init;
  }

  get workspaceDir(): string {
    return this.#init.spec.workspaceDir;
  }

  env(extra?: Record<string, string>): Record<string, string> {
    return sandboxEnv(this.#init.spec, extra);
  }

  commandGroup(name: string): CommandGroup | undefined {
    return this.#init.cgroup?.commandGroup(name);
  }

  stop(): Promise<void> {
    this.#stopping ??= this.#stop();
    return this.#stopping;
  }

  async #stop(): Promise<void> {
    const { pid, pidNamespace, child, cgroup } = this.#init;
    // Killing pid 1 of the namespace makes the kernel kill everything else in it. bwrap, its
    // parent, reaps it and exits: killing bwrap first would leave the reaping to the host's init.
    if ((await pidNamespaceOf(pid)) === pidNamespace) {
      killQuietly(pid);
      await Promise.race([this.exited, delay(1000)]);
    }
    // Then whatever is left in its cgroups.
    await cgroup?.killAll();
    if (child && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await this.exited;
    try {
      await killUntilGone(() => pidsInNamespace(pidNamespace), { what: `sandbox ${this.id}` });
    } catch (error) {
      throw new NixSpaceError('SANDBOX_FAILED', `cannot kill the processes of sandbox ${this.id}`, {
        detail: String(error),
        cause: error,
      });
    }
    await cgroup?.remove();
    await this.agent.close();
    await removeBoxRecord(this.#init.spec.agentDir);
    await rm(this.#init.stateDir, { recursive: true, force: true });
  }
}
