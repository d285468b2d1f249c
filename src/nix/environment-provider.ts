// One interface for the ways a workspace gets its toolchains: `nix` builds the spec reproducibly,
// `host` uses whatever the server has installed and says where that falls short. Services pick a
// provider by capability (selectEnvironmentProvider), never by name.

import type { EnvSpec } from '../detect/env-spec.js';
import type { PlanNote, SuppliedFact } from './generate-flake.js';

export interface EnvironmentPlan {
  /** environmentHash of the spec's build projection and the flake: equal hashes, one build. */
  hash: string;
  provider: 'nix' | 'host';
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
  /** Where the spec got the fact from (`.nvmrc:1`). */
  source?: string;
  /** One sentence for the UI: "node 24 wanted (from .nvmrc), host has 20.20.2". */
  message: string;
}

export interface PreparedEnvironment {
  provider: 'nix' | 'host';
  hash: string;
  reproducible: boolean;
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
