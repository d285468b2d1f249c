// One definition per kind of backing service (postgres, redis, ...): where its binaries live, how
// its data dir is initialised, how it runs in the foreground, when it is ready, and which
// connection settings it exports. The supervisor runs every kind the same way.
import type { Sandbox } from '../../../runtime/sandbox.js';
import type { ServiceAccount } from './service-account.js';

/** A running (or about to run) service, as its definition sees it. */
export interface ServiceInstance {
  readonly sandbox: Sandbox;
  /** Version the binaries report, e.g. `15.18`. */
  readonly version: string;
  /** Directory of the server program; sibling tools (initdb, redis-cli) are looked up here. */
  readonly binDir: string;
  /** `<workspaceDir>/.nixspace/services/<name>-<dataVersion>`: logs, sockets, data. */
  readonly serviceDir: string;
  readonly dataDir: string;
  /** Loopback port the service listens on (inside the sandbox's network). */
  readonly port: number;
  /** Database to create where the kind has databases (named after the repository, or `app`). */
  readonly database: string;
  /** Who the server runs as; undefined keeps the sandbox's own user. */
  readonly account: ServiceAccount | undefined;
  readonly signal: AbortSignal | undefined;
}

export interface BackingService {
  /** The name services carry in the EnvSpec. */
  readonly name: string;
  readonly defaultPort: number;
  /** The Debian package that provides the server, named when no binary is found. */
  readonly debianPackage: string;
  /** The server program, looked up on the workspace's PATH first, then in `hostBinDirs`. */
  readonly program: string;
  /** The host's standard locations, preferred (newest) first. */
  hostBinDirs(): Promise<string[]>;
  readonly versionArgs: readonly string[];
  /** Extracts the version from the output of `program ...versionArgs`. */
  parseVersion(output: string): string | undefined;
  /** The part of the version the data format depends on; names the data dir. */
  dataVersion(version: string): string;
  /**
   * Accounts (by preference) for servers that refuse to run as root; a user namespace maps the
   * sandbox's user to it (CommandOptions.user). Undefined runs as the sandbox's user.
   */
  readonly accounts?: readonly string[];
  /** Graceful stop (postgres: SIGINT is `pg_ctl -m fast`). */
  readonly stopSignal: NodeJS.Signals;
  /** Creates the data dir when it is new; leaves an existing one alone. Runs in the sandbox. */
  init?(instance: ServiceInstance): Promise<void>;
  /** The server in the foreground. */
  argv(instance: ServiceInstance): string[];
  /** A command that exits 0 once the server accepts clients. */
  readyProbe(instance: ServiceInstance): string[];
  /** Runs once the server is ready (postgres creates the database if it is missing). */
  afterReady?(instance: ServiceInstance): Promise<void>;
  /** Connection settings for the workspace's processes. */
  exports(instance: ServiceInstance): Record<string, string>;
}

/** `15.18` → `15`: the major version, which is what data formats and spec versions name. */
export function majorVersion(version: string): string {
  return version.split('.')[0] ?? version;
}
