// The environment's identity: sha256 over what decides the build, never over provenance. The
// EnvSpec records where each fact came from (file and line); moving a line must not rebuild
// anything, while a different Node major or a changed flake.lock must.

import { createHash } from 'node:crypto';
import type { EnvSpec } from '../detect/env-spec.js';

export interface EnvironmentHashInput {
  spec: EnvSpec;
  /** Which provider builds it: a host environment and a Nix one are different builds. */
  provider: 'nix' | 'host';
  /**
   * The flake that is built: the generated one (with its generated lock) or the repo's own
   * flake.nix and flake.lock as they are on disk. Null for host environments without a flake.
   */
  flake: { content: string; lock: string | null } | null;
}

const byKey =
  <T>(key: (item: T) => string) =>
  (a: T, b: T): number => {
    const x = key(a);
    const y = key(b);
    return x < y ? -1 : x > y ? 1 : 0;
  };

/** The build-relevant facts of a spec, in a fixed order and shape. */
export function buildProjection(input: EnvironmentHashInput): unknown {
  const { spec } = input;
  return {
    v: 1,
    provider: input.provider,
    toolchains: spec.toolchains.map((t) => ({ name: t.name, version: t.version })).sort(byKey((t) => t.name)),
    packageManagers: spec.packageManagers
      .map((p) => ({
        name: p.name,
        toolchain: p.toolchain,
        version: p.version ?? null,
        variant: p.variant ?? null,
      }))
      .sort(byKey((p) => `${p.toolchain}\0${p.name}`)),
    systemPackages: [...new Set(spec.systemPackages.map((p) => p.name))].sort(),
    services: spec.services.map((s) => ({ name: s.name, version: s.version })).sort(byKey((s) => s.name)),
    // Non-secret variables are part of the activation environment; secrets never enter a hash.
    env: spec.env
      .filter((e) => !e.secret && e.value !== null)
      .map((e) => ({ name: e.name, value: e.value }))
      .sort(byKey((e) => e.name)),
    flake: input.flake === null ? null : { content: input.flake.content, lock: input.flake.lock },
  };
}

/** sha256 (hex) of the canonical JSON of buildProjection. */
export function environmentHash(input: EnvironmentHashInput): string {
  return createHash('sha256')
    .update(JSON.stringify(buildProjection(input)))
    .digest('hex');
}
