// The provider `auto` picks when Nix builds here: Nix for every environment it can obtain, the
// host's toolchains for the rest. A repository's own flake always goes to Nix. A generated flake
// needs the pinned nixpkgs; on a server that cannot obtain it (no route to GitHub, `--nix-offline`
// without it in the store) every generated build would spend seconds failing, so the first plan
// that needs it asks once whether it can be had, and until the server restarts generated
// environments use the host's toolchains, marked not reproducible, with the reason in their log.

import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { EnvSpec } from '../detect/env-spec.js';
import type {
  EnvironmentPlan,
  EnvironmentProvider,
  PreparedEnvironment,
  PrepareOptions,
} from './environment-provider.js';
import type { HostEnvironmentProvider } from './host-provider.js';
import type { NixCli } from './nix-cli.js';
import type { NixEnvironmentProvider } from './nix-provider.js';
import { nixpkgsFlakeLock, nixpkgsFlakeUrl, nixpkgsPin } from './nixpkgs-pin.js';

/** How long obtaining nixpkgs may take (a first download of its source is about 40 MB). */
const nixpkgsTimeoutMs = 5 * 60_000;

/**
 * Whether the pinned nixpkgs can be had here: evaluates `lib.version` of a flake whose only input
 * is the pin, locked exactly as generated flakes lock it. On success the source is in the store
 * and the first build does not download it again. Returns null when it can, else the reason.
 */
export async function probeNixpkgs(cli: NixCli, signal?: AbortSignal): Promise<string | null> {
  const dir = await mkdtemp(join(tmpdir(), 'nixspace-nixpkgs-probe-'));
  try {
    await writeFile(
      join(dir, 'flake.nix'),
      `{ inputs.nixpkgs.url = "${nixpkgsFlakeUrl()}"; outputs = { self, nixpkgs }: { version = nixpkgs.lib.version; }; }\n`,
    );
    await writeFile(join(dir, 'flake.lock'), nixpkgsFlakeLock());
    // The flake is fully locked: the global flake registry is not needed, and fetching it would
    // be one more download to fail.
    const registry = join(dir, 'registry.json');
    await writeFile(registry, JSON.stringify({ flakes: [], version: 2 }));
    const result = await cli.run(
      [
        'eval',
        '--raw',
        '--no-write-lock-file',
        '--option',
        'flake-registry',
        registry,
        // Fail fast where there is no route: one attempt, a bounded connect.
        '--option',
        'download-attempts',
        '1',
        '--option',
        'connect-timeout',
        '10',
        `path:${dir}#version`,
      ],
      { timeoutMs: nixpkgsTimeoutMs, ...(signal ? { signal } : {}) },
    );
    if (result.code === 0) return null;
    const problem = result.stderrTail.filter((line) => line.startsWith('error:')).at(-1);
    return (problem ?? result.stderrTail.at(-1) ?? `nix exited with ${result.code}`).replace(
      /^error:\s*/,
      '',
    );
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

export interface AutoProviderOptions {
  /** Whether the pinned nixpkgs can be had (default: probeNixpkgs with the Nix provider's CLI). */
  probeNixpkgs?(): Promise<string | null>;
  /** The choice and its reason, for the server log. */
  onLog?(line: string): void;
}

export class AutoEnvironmentProvider implements EnvironmentProvider {
  readonly name = 'nix' as const;
  readonly reproducible = true;
  #nixpkgs: Promise<string | null> | undefined;

  constructor(
    private readonly nix: NixEnvironmentProvider,
    private readonly host: HostEnvironmentProvider,
    private readonly options: AutoProviderOptions = {},
  ) {}

  /** Null when generated environments build with Nix, else why they use the host's toolchains. */
  nixpkgsProblem(): Promise<string | null> {
    this.#nixpkgs ??= (this.options.probeNixpkgs ?? (() => probeNixpkgs(this.nix.cli)))().then((problem) => {
      this.options.onLog?.(
        problem === null
          ? `environments: nixpkgs ${nixpkgsPin.branch} is available; generated environments build with nix`
          : `environments: nixpkgs ${nixpkgsPin.branch} cannot be obtained (${problem}); generated environments use the host toolchains`,
      );
      return problem;
    });
    return this.#nixpkgs;
  }

  async plan(spec: EnvSpec, repoDir: string): Promise<EnvironmentPlan> {
    if (spec.flake !== null) return this.nix.plan(spec, repoDir);
    const problem = await this.nixpkgsProblem();
    if (problem === null) return this.nix.plan(spec, repoDir);
    const plan = await this.host.plan(spec, repoDir);
    const message = `nixpkgs ${nixpkgsPin.branch} cannot be obtained on this server (${problem}): using the host toolchains`;
    // The host provider says this when it prepares the environment (and the API carries it).
    return {
      ...plan,
      fallback: { cause: 'nixpkgs', detail: problem, message: `Nix was not used: ${message}` },
    };
  }

  prepare(plan: EnvironmentPlan, options: PrepareOptions): Promise<PreparedEnvironment> {
    return plan.provider === 'nix' ? this.nix.prepare(plan, options) : this.host.prepare(plan, options);
  }
}
