// The sandbox driver interface: one workspace runs in one sandbox, and every process of the
// workspace (terminals, jobs, IDE, services) is started inside it through `command()`.

import type { AgentLink } from './agent/agent-link.js';

export type NetworkPolicy = 'none' | 'host';

export type LimitKind = 'memory' | 'cpu' | 'pids';

export interface SandboxLimits {
  /** Memory limit in bytes (RSS + page cache of the sandbox's processes). */
  memoryBytes?: number;
  /** CPU limit in cores (1.5 = one and a half cores). */
  cpus?: number;
  /** Maximum number of processes/threads. */
  pids?: number;
}

/**
 * The unprivileged host identity every process of a sandbox runs as, and owns the workspace's
 * files on the host. Inside, an isolating driver shows it as the workspace user (`dev`, uid 1000).
 */
export interface SandboxUser {
  uid: number;
  gid: number;
}

/** The workspace user as processes see themselves inside an isolating sandbox. */
export const WORKSPACE_USER = { name: 'dev', uid: 1000, gid: 1000 } as const;

export interface SandboxSpec {
  /** Stable id (the workspace id); names the cgroup and lets `cleanup` find leftovers. */
  id: string;
  /**
   * Who the sandbox's processes are on the host: never root. A driver without isolation runs them
   * as the server's own user and ignores this.
   */
  user: SandboxUser;
  /** The only host directory the sandbox may write (absolute path, mounted at the same path). */
  workspaceDir: string;
  /**
   * Host paths the sandbox must see read-only at the same path even where the sandbox mounts
   * something fresh (e.g. the git mirrors a checkout borrows objects from, when under /tmp).
   */
  readOnlyPaths?: readonly string[];
  /**
   * Existing host directories the sandbox must not see at all (NixSpace's data directory, with its
   * keys, database and other workspaces): an empty directory stands in their place. The workspace
   * and read-only paths inside them are still shown.
   */
  hiddenPaths?: readonly string[];
  /**
   * An existing host directory only this sandbox mounts, writable, at the same path (even inside a
   * hidden path): where its programs put the sockets the server reaches them by, out of sight of
   * other sandboxes that see the workspace (a viewer's).
   */
  runtimeDir?: string;
  /**
   * Runs the workspace agent as the sandbox's first process (instead of an idle init): it dials
   * the server on a socket the driver makes in this host directory of the server's, which the
   * sandbox sees read-only and no other sandbox sees. `Sandbox.agent` is then its link.
   */
  agentDir?: string;
  network: NetworkPolicy;
  limits: SandboxLimits;
  hostname?: string;
  /** Environment every process in the sandbox starts with (PATH, HOME, ...). */
  env?: Record<string, string>;
}

/** A command ready to hand to child_process.spawn or node-pty's spawn. */
export interface SpawnCommand {
  file: string;
  args: string[];
  env: Record<string, string>;
  cwd: string;
}

export interface CommandOptions {
  cwd?: string;
  env?: Record<string, string>;
  /**
   * Where the sandbox runs programs as root (a driver without isolation, under a root server), runs
   * this one as the given non-root uid/gid instead, for programs that refuse root (postgres): a
   * user namespace maps the server's user to it. Ignored where every program already runs as the
   * unprivileged workspace user (DriverCapabilities.unprivileged).
   */
  user?: { uid: number; gid: number };
  /**
   * Puts the command in a group of its own inside the sandbox (a child cgroup of the sandbox's,
   * created on first use; letters, digits and dashes): everything it starts stays in the group,
   * setsid'd and double-forked processes included, so `commandGroup(name)` can find and kill it
   * all. Limits stay the sandbox's. Where the driver has no cgroups the option changes nothing.
   */
  group?: string;
}

/** The processes of the commands started with one `CommandOptions.group`. */
export interface CommandGroup {
  readonly name: string;
  /** Host pids of its live processes, whatever session or parent they have now. */
  pids(): Promise<number[]>;
  /** SIGKILLs every process in it; resolves when none is left. */
  kill(): Promise<void>;
  /** Removes the group once its command has ended; processes still in it stay in the sandbox. */
  release(): Promise<void>;
}

export interface SandboxExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface Sandbox {
  readonly id: string;
  /** Every program runs as the unprivileged workspace user, never root (DriverCapabilities). */
  readonly unprivileged: boolean;
  /** Host pid of the sandbox's init process, when it has one. */
  readonly pid: number | undefined;
  /** The link to the agent that runs as its first process, when the spec asked for one. */
  readonly agent: AgentLink | undefined;
  /**
   * Wraps argv so that spawning the result runs it inside this sandbox: with child_process
   * (`spawn(c.file, c.args, { cwd: c.cwd, env: c.env })`) or node-pty (same fields). The
   * environment is exactly spec.env + options.env, never the server's. The spawned host process
   * may be a wrapper (nsenter): to signal the program gracefully, spawn detached and signal the
   * process group; killing the wrapper SIGKILLs the program. Where the driver can tell (its
   * cgroups are gone, or its init), a command spawned after stop exits with code 125 instead of
   * running outside the sandbox.
   */
  command(argv: readonly string[], options?: CommandOptions): SpawnCommand;
  /**
   * The group that commands started with `{ group: name }` join; undefined where the driver cannot
   * keep such groups (no cgroups): then only a command's process tree can be found.
   */
  commandGroup(name: string): CommandGroup | undefined;
  /** Kills every process of the sandbox, children included; resolves when all are gone. */
  stop(): Promise<void>;
  /** Settles when the sandbox's init process has exited (after stop, or if it died). */
  readonly exited: Promise<SandboxExit>;
}

export interface DriverCapabilities {
  /** The sandbox cannot write outside workspaceDir nor see host processes. */
  isolation: boolean;
  /**
   * Every process runs as the spec's unprivileged user (the workspace user inside), with no
   * capabilities, no new privileges and a seccomp filter: root is never anyone's in the sandbox.
   */
  unprivileged: boolean;
  /** Limits this driver enforces on this host (empty when cgroups are not writable). */
  limits: readonly LimitKind[];
  networkPolicies: readonly NetworkPolicy[];
}

export interface SandboxDriver {
  readonly name: string;
  readonly capabilities: DriverCapabilities;
  /** Throws NixSpaceError('SANDBOX_UNAVAILABLE') naming what is missing (e.g. the package). */
  probe(): Promise<void>;
  start(spec: SandboxSpec, options?: { signal?: AbortSignal }): Promise<Sandbox>;
  /**
   * The sandbox with an agent (spec.agentDir) that an earlier server process started for this
   * spec, when it still runs and its agent dials in again: a restart keeps workspaces running.
   */
  attach(spec: SandboxSpec): Promise<Sandbox | undefined>;
  /**
   * Kills processes and removes cgroups an earlier server process left for this id; with the
   * spec's agentDir, the agent sandbox it left running too.
   */
  cleanup(id: string, options?: { agentDir?: string }): Promise<void>;
}
