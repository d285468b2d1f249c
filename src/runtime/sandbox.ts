// The sandbox driver interface: one workspace runs in one box, whose first process is the
// workspace agent; every program of the workspace (terminals, jobs, IDE, services, git on its
// checkout, installs, probes) is the agent's, started over the one link to it. A driver starts a
// box with given limits, hands over that link, takes a running box back after a server restart,
// and stops it.

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
   * Where the workspace agent, the sandbox's first process, reaches the server: a host directory
   * of the server's in which the driver makes the agent's socket (and keeps its record of the
   * box), which the sandbox sees read-only and no other sandbox sees.
   */
  agentDir: string;
  network: NetworkPolicy;
  limits: SandboxLimits;
  hostname?: string;
  /** Environment every process in the sandbox starts with (PATH, HOME, ...). */
  env?: Record<string, string>;
}

/**
 * The processes of the programs the agent started in one group (`SpawnRequest.group`), as the
 * host sees them: a child cgroup of the sandbox's, so setsid'd and double-forked ones included.
 */
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
  /** Set when the sandbox was ended because its agent stopped answering: why. */
  unresponsive?: string;
}

export interface Sandbox {
  readonly id: string;
  /** Every program runs as the unprivileged workspace user, never root (DriverCapabilities). */
  readonly unprivileged: boolean;
  /** Host pid of the sandbox's init process, when it has one. */
  readonly pid: number | undefined;
  /** The link to the agent that runs as its first process. */
  readonly agent: AgentLink;
  /** The spec's workspaceDir: where its programs start unless told otherwise. */
  readonly workspaceDir: string;
  /** The environment a program in it starts with: the spec's, then `extra`; never the server's. */
  env(extra?: Record<string, string>): Record<string, string>;
  /**
   * The group the agent's programs started with `group: name` join; undefined where the driver
   * cannot keep such groups (no cgroups): then the agent's process group is all there is.
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
  /**
   * A sandbox can hibernate with its memory (`SandboxDriver.memoryHibernation`): resuming brings
   * the very processes back. Without it, hibernating a workspace stops its sandbox.
   */
  memoryHibernate?: boolean;
  /**
   * How many times longer than on the host a program takes to start in this driver's sandboxes
   * (an emulated guest loads every file through its hypervisor): what waits for a program the
   * workspace runs to come up (its IDE, a backing service) waits this many times as long. 1 when
   * absent.
   */
  startupSlowdown?: number;
  /**
   * Where the sandbox's programs bind the Unix sockets the agent carries the server's connections
   * to, when SandboxSpec.runtimeDir cannot hold a socket: a microVM shows it over 9p, where bind
   * fails (ENXIO), so its programs listen in the guest's own /tmp, which only that box has.
   * Absent: in runtimeDir.
   */
  socketDir?: string;
}

/** The factor a driver's deadlines for a program to come up are stretched by (at least 1). */
export function startupSlowdownOf(driver: SandboxDriver): number {
  return Math.max(1, driver.capabilities.startupSlowdown ?? 1);
}

/** A deadline for a program to come up, stretched by a driver's startupSlowdown (absent: 1). */
export function stretchedDeadline(ms: number, slowdown: number | undefined): number {
  return ms * Math.max(1, slowdown ?? 1);
}

/** A saved sandbox, as its driver wrote it. */
export interface MemoryImage {
  /** Bytes on disk (the sandbox's kernel state and its processes' memory). */
  bytes: number;
  /** How long saving it took. */
  ms: number;
}

/**
 * Hibernation with memory: a running sandbox is saved whole (its processes, their memory, its
 * agent) in an image only the driver can read, and ends; resuming it brings the same processes
 * back, and its agent dials in again. An image is resumed once: it is deleted after a resume,
 * whether that worked or not, and a sandbox that could not be resumed starts anew from its files.
 */
export interface MemoryHibernation {
  /** Saves the sandbox (one this driver started, attached or resumed) and ends it. */
  hibernate(sandbox: Sandbox): Promise<MemoryImage>;
  /** Whether an image of this id waits to be resumed (it outlives a server restart). */
  hasImage(id: string): Promise<boolean>;
  /** The sandbox saved under `spec.id`, running again; throws NOT_FOUND when there is no image. */
  resume(spec: SandboxSpec, options?: { signal?: AbortSignal }): Promise<Sandbox>;
  /** Deletes the image of this id, if there is one (the sandbox is not to come back). */
  discard(id: string): Promise<void>;
}

export interface SandboxDriver {
  readonly name: string;
  readonly capabilities: DriverCapabilities;
  /** Throws NixSpaceError('SANDBOX_UNAVAILABLE') naming what is missing (e.g. the package). */
  probe(): Promise<void>;
  start(spec: SandboxSpec, options?: { signal?: AbortSignal }): Promise<Sandbox>;
  /**
   * The sandbox an earlier server process started for this spec, when it still runs and its agent
   * dials in again: a restart keeps workspaces running.
   */
  attach(spec: SandboxSpec): Promise<Sandbox | undefined>;
  /**
   * Kills processes and removes cgroups an earlier server process left for this id; with the
   * spec's agentDir, the sandbox it left running too. A memory image of this id goes as well.
   */
  cleanup(id: string, options?: { agentDir?: string }): Promise<void>;
  /** Present where `capabilities.memoryHibernate` says so. */
  readonly memoryHibernation?: MemoryHibernation;
}

/** The driver's hibernation with memory, when it has one on this host. */
export function memoryHibernationOf(driver: SandboxDriver): MemoryHibernation | undefined {
  return driver.capabilities.memoryHibernate ? driver.memoryHibernation : undefined;
}
