// The sandbox driver interface: one workspace runs in one sandbox, and every process of the
// workspace (terminals, jobs, IDE, services) is started inside it through `command()`.

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

export interface SandboxSpec {
  /** Stable id (the workspace id); names the cgroup and lets `cleanup` find leftovers. */
  id: string;
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
   * Runs the program as this non-root uid/gid, for programs that refuse to run as root (postgres).
   * A user namespace maps the sandbox's own user to it: the program sees itself as uid/gid and
   * as the owner of the workspace's files, while on the host it keeps the sandbox's identity, so
   * what it writes belongs to whoever owns the workspace and no host account or chown is needed.
   * The uid should exist in /etc/passwd: some programs look their user up (initdb).
   */
  user?: { uid: number; gid: number };
}

export interface SandboxExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface Sandbox {
  readonly id: string;
  /** Host pid of the sandbox's init process, when it has one. */
  readonly pid: number | undefined;
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
  /** Kills every process of the sandbox, children included; resolves when all are gone. */
  stop(): Promise<void>;
  /** Settles when the sandbox's init process has exited (after stop, or if it died). */
  readonly exited: Promise<SandboxExit>;
}

export interface DriverCapabilities {
  /** The sandbox cannot write outside workspaceDir nor see host processes. */
  isolation: boolean;
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
  /** Kills processes and removes cgroups an earlier server process left for this id. */
  cleanup(id: string): Promise<void>;
}
