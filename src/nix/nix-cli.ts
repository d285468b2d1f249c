// How NixSpace invokes Nix. Measured with Debian's nix-bin (Nix 2.8) as root, no daemon, offline:
// - The store is the system one, /nix/store: with no nix-daemon socket, Nix opens the local store
//   directly and as root creates /nix/store on first use (single-user mode). A chroot store
//   (`--store /data/nix`) also works for non-root servers, but its paths exist only under that
//   root, so a sandbox must bind-mount it at /nix/store before the activation PATH means anything.
// - Flakes need `--extra-experimental-features 'nix-command flakes'` on every call (2.8 keeps
//   them experimental); we pass it rather than edit /etc/nix/nix.conf.
// - Debian's nix.conf already says `sandbox = false` (the Nix sandbox does not work there) and the
//   package creates the nixbld group, so builds run as root without extra options; other hosts
//   can pass `--option build-users-group ''` through `options`.
// - A flake in a plain directory is referenced as `path:/abs/dir` (no git needed, nothing untracked
//   left out). `--no-write-lock-file` keeps Nix from writing into a repository's checkout.
// - Without network, every build first spends ~4 s retrying cache.nixos.org; `offline: true`
//   passes `--offline` (no substituters) for such hosts and for the tests.
// - `print-dev-env` dumps the environment of any derivation whose builder is bash and that sets
//   `outputs`; mkShell does both, so generated flakes and most repo devShells work.

import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type RunOptions, type RunResult, runCommand } from './run-command.js';

export interface NixCliOptions {
  /** The nix binary (default: `nix` on PATH). */
  nix?: string;
  /** `--store`: a chroot store directory or store URL; default the system store. */
  store?: string;
  /** `--offline`: never contact substituters (binary caches) or refetch inputs. */
  offline?: boolean;
  /** Extra `--option name value` pairs (build-users-group, substituters, …). */
  options?: Record<string, string>;
}

export class NixCli {
  readonly program: string;

  constructor(readonly config: NixCliOptions = {}) {
    this.program = config.nix ?? 'nix';
  }

  /** The flags every call gets, before the subcommand's own. */
  commonArgs(): string[] {
    const args = ['--extra-experimental-features', 'nix-command flakes'];
    if (this.config.store !== undefined) args.push('--store', this.config.store);
    if (this.config.offline) args.push('--offline');
    for (const [name, value] of Object.entries(this.config.options ?? {})) args.push('--option', name, value);
    return args;
  }

  run(subcommand: string[], options: RunOptions = {}): Promise<RunResult> {
    // The subcommand comes first: 2.8 only accepts some flags (--offline) after it.
    const [command, ...rest] = subcommand;
    return runCommand(
      this.program,
      [...(command === undefined ? [] : [command]), ...this.commonArgs(), ...rest],
      options,
    );
  }

  /** `nix --version`, or null when nix is not installed. */
  async version(signal?: AbortSignal): Promise<string | null> {
    try {
      const r = await runCommand(this.program, ['--version'], {
        timeoutMs: 10_000,
        ...(signal ? { signal } : {}),
      });
      return r.code === 0 ? r.stdout.trim() : null;
    } catch {
      return null;
    }
  }

  /**
   * Whether this nix can evaluate and build a flake here: builds a one-line flake with no inputs.
   * Returns null when it works, else the reason (for the log of selectEnvironmentProvider).
   */
  async probe(signal?: AbortSignal): Promise<string | null> {
    const version = await this.version(signal);
    if (version === null) return `${this.program} is not installed`;
    const dir = await mkdtemp(join(tmpdir(), 'nixspace-nix-probe-'));
    try {
      await writeFile(
        join(dir, 'flake.nix'),
        `{ outputs = { self }: { packages.${currentSystem()}.default = derivation { name = "nixspace-probe"; system = "${currentSystem()}"; builder = "/bin/sh"; args = [ "-c" "echo ok > $out" ]; }; }; }\n`,
      );
      const r = await this.run(['build', '--offline', '--no-link', '--no-write-lock-file', `path:${dir}`], {
        timeoutMs: 60_000,
        ...(signal ? { signal } : {}),
      });
      return r.code === 0
        ? null
        : `${version} cannot build a flake here: ${r.stderrTail.slice(-3).join(' / ')}`;
    } catch (error) {
      return `${version} failed: ${error instanceof Error ? error.message : String(error)}`;
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }
}

/** The Nix system name of this machine. */
export function currentSystem(): string {
  return `${process.arch === 'arm64' ? 'aarch64' : 'x86_64'}-linux`;
}
