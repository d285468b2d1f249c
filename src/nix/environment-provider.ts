// One interface for the ways a workspace gets its toolchains: `nix` builds the spec reproducibly,
// `host` uses whatever the server has installed and says where that falls short. Services pick a
// provider by capability (selectEnvironmentProvider), never by name.

import type { EnvSpec } from '../detect/env-spec.js';
import type { PlanNote, SuppliedFact } from './generate-flake.js';

/**
 * Why an environment uses the host's toolchains instead of Nix: `nixpkgs` when Nix is here but
 * cannot obtain the pinned nixpkgs, `nix` when Nix cannot build here at all, `configured` when
 * the server was told to use the host (`--environment-provider host`).
 */
export interface ProviderFallback {
  cause: 'nixpkgs' | 'nix' | 'configured';
  /** What Nix (or the configuration) actually said. */
  detail: string;
  /** One sentence for the UI: "Nix was not used: nixpkgs … cannot be obtained (…)". */
  message: string;
}

/**
 * How exactly an environment can be had again: `reproducible` (Nix, same hash same build),
 * `pinned` (exact Node, pnpm or yarn releases from the npm registry over the host's other tools),
 * `none` (whatever the host has).
 */
export type Reproducibility = 'reproducible' | 'pinned' | 'none';

export type ProviderName = 'nix' | 'host' | 'registry';

export interface EnvironmentPlan {
  /** environmentHash of the spec's build projection and the flake: equal hashes, one build. */
  hash: string;
  provider: 'nix' | 'host';
  /** For host plans: why Nix is not used. */
  fallback?: ProviderFallback;
  /**
   * The flake to build: generated from the spec (with its generated lock), or the repo's own
   * (`generated: false`, built as-is, never overwritten). Null for host plans of repos without one.
   */
  flake: { content: string; lock: string | null; generated: boolean } | null;
  spec: EnvSpec;
  /** Per fact of the spec, what the plan supplies (empty for a repo's own flake: it decides). */
  supplied: SuppliedFact[];
  notes: PlanNote[];
  /** The repository checkout the plan was made for: a repo's own flake is built from there. */
  repoDir: string;
}

export type ReportStatus = 'ok' | 'missing' | 'mismatch';

export interface ReportEntry {
  kind: 'toolchain' | 'service' | 'package-manager';
  name: string;
  wanted: string | null;
  provided: string | null;
  status: ReportStatus;
  /** What the repository literally asked for, when it differs from `wanted` (`>=18`). */
  requested?: string;
  /** Who supplies it: the host, the npm registry (a pinned release), or a Nix environment. */
  origin?: 'host' | 'registry' | 'environment';
  /** Where the spec got the fact from (`.nvmrc:1`). */
  source?: string;
  /** One sentence for the UI: "node 24 wanted (from .nvmrc), host has 20.20.2". */
  message: string;
  /** For what is missing or mismatched: why, and how to get it ("install golang-go, or …"). */
  hint?: string;
}

export interface PreparedEnvironment {
  /** `registry` when the host's toolchains are joined by releases fetched from the npm registry. */
  provider: ProviderName;
  hash: string;
  reproducible: boolean;
  reproducibility: Reproducibility;
  /** Why Nix was not used, for host and registry environments. */
  fallback: ProviderFallback | null;
  /** Host directories the sandbox must see, read-only (the fetched toolchains). */
  readOnlyPaths: string[];
  /**
   * Variables every process of the workspace gets (shells, jobs, services): the activation
   * environment. PATH comes first and already includes the base PATH after the environment's.
   */
  env: Record<string, string>;
  /** A devShell's shellHook, for interactive shells to source; jobs and services do not run it. */
  shellHook: string | null;
  report: ReportEntry[];
  /** True when an earlier build of the same hash was reused. */
  cached: boolean;
  log: string[];
}

export interface PrepareOptions {
  /** A directory owned by this environment (one per hash): flake files, results, GC roots. */
  workDir: string;
  signal?: AbortSignal;
  onLog?(line: string): void;
}

export interface EnvironmentProvider {
  readonly name: 'nix' | 'host';
  /** Whether equal plans give bit-identical environments on any machine. */
  readonly reproducible: boolean;
  /**
   * Generates the flake (or reads the repo's own) and computes the hash. Throws
   * UnsupportedVersionError (UNSUPPORTED_VERSION) naming the toolchain, version and file when the
   * provider cannot supply a version at all.
   */
  plan(spec: EnvSpec, repoDir: string): Promise<EnvironmentPlan>;
  /**
   * Builds (nix) or checks the host (host). A failing build throws
   * NixSpaceError('ENVIRONMENT_BUILD_FAILED') with the tail of the build log in `detail`.
   */
  prepare(plan: EnvironmentPlan, options: PrepareOptions): Promise<PreparedEnvironment>;
}
