// EnvSpec: the typed, canonical description of what a workspace needs. Detection produces it,
// the Nix layer turns it into a flake, and its hash names the environment, so equal specs must
// serialise to identical bytes (canonicalJson) and hash equal (specHash).

import { createHash } from 'node:crypto';
import { z } from 'zod';

/** Where a fact came from: a repo-relative file and, when known, the 1-based line. */
export const sourceSchema = z.object({
  file: z.string().min(1),
  line: z.number().int().positive().optional(),
});
export type Source = z.infer<typeof sourceSchema>;

export const toolchainNameSchema = z.enum(['node', 'python', 'ruby', 'rust', 'go']);
export type ToolchainName = z.infer<typeof toolchainNameSchema>;

/**
 * How a toolchain version was arrived at: `exact` from a pin file, `alias` from a named alias
 * (`lts/*`, a codename, `stable`), `range` chosen inside a constraint, `minimum` a floor such as
 * go.mod's `go` directive, `default` when the repo says nothing.
 */
export const resolutionSchema = z.enum(['exact', 'alias', 'range', 'minimum', 'default']);
export type Resolution = z.infer<typeof resolutionSchema>;

export const toolchainSchema = z.object({
  name: toolchainNameSchema,
  /** The version to install: `24`, `3.11`, `1.90.0`, `stable`, `nightly-2026-07-19`. */
  version: z.string().min(1),
  /** What the repo literally asked for, when it differs from `version` (`lts/krypton`, `>=3.10`). */
  requested: z.string().optional(),
  resolution: resolutionSchema,
  source: sourceSchema,
});
export type Toolchain = z.infer<typeof toolchainSchema>;

export const packageManagerNameSchema = z.enum([
  'npm',
  'yarn',
  'pnpm',
  'bun',
  'pip',
  'poetry',
  'uv',
  'pdm',
  'hatch',
  'pipenv',
  'bundler',
  'cargo',
  'go',
]);
export type PackageManagerName = z.infer<typeof packageManagerNameSchema>;

export const packageManagerSchema = z.object({
  name: packageManagerNameSchema,
  toolchain: toolchainNameSchema,
  version: z.string().optional(),
  /** Yarn only: classic (1.x) and berry (2+) install differently. */
  variant: z.enum(['classic', 'berry']).optional(),
  lockfile: z.string().optional(),
  source: sourceSchema,
});
export type PackageManager = z.infer<typeof packageManagerSchema>;

export const systemPackageSchema = z.object({
  name: z.string().min(1),
  reason: z.string().optional(),
  source: sourceSchema,
});
export type SystemPackage = z.infer<typeof systemPackageSchema>;

export const serviceSchema = z.object({
  /** Normalised service name: postgres, mysql, mariadb, redis, memcached, opensearch, ... */
  name: z.string().min(1),
  version: z.string().nullable(),
  source: sourceSchema,
});
export type Service = z.infer<typeof serviceSchema>;

export const envVarSchema = z.object({
  name: z.string().min(1),
  /** Null for secrets: their values never enter the spec, its hash, or a log line. */
  value: z.string().nullable(),
  secret: z.boolean(),
  source: sourceSchema,
});
export type EnvVar = z.infer<typeof envVarSchema>;

export const setupCommandSchema = z.object({
  command: z.string().min(1),
  /** Which toolchain the command belongs to, so a rebuild knows which cache it refreshes. */
  toolchain: toolchainNameSchema,
  source: sourceSchema,
});
export type SetupCommand = z.infer<typeof setupCommandSchema>;

export const portSchema = z.object({
  port: z.number().int().min(1).max(65535),
  label: z.string().optional(),
  source: sourceSchema,
});
export type Port = z.infer<typeof portSchema>;

export const appSchema = z.object({
  name: z.string().min(1),
  command: z.string().optional(),
  source: sourceSchema,
});
export type App = z.infer<typeof appSchema>;

export const jobSchema = z.object({
  name: z.string().min(1),
  command: z.string().min(1),
  kind: z.enum(['make', 'npm-script', 'procfile']),
  source: sourceSchema,
});
export type Job = z.infer<typeof jobSchema>;

export const flakeSchema = z.object({ present: z.literal(true), file: z.literal('flake.nix') });
export type Flake = z.infer<typeof flakeSchema>;

export const envSpecSchema = z.object({
  schemaVersion: z.literal(1),
  toolchains: z.array(toolchainSchema),
  packageManagers: z.array(packageManagerSchema),
  systemPackages: z.array(systemPackageSchema),
  services: z.array(serviceSchema),
  env: z.array(envVarSchema),
  /** In run order: dependency installs per toolchain. */
  setup: z.array(setupCommandSchema),
  ports: z.array(portSchema),
  apps: z.array(appSchema),
  jobs: z.array(jobSchema),
  /** The repo's own flake.nix; when present, later stages use it as-is. */
  flake: flakeSchema.nullable(),
});
export type EnvSpec = z.infer<typeof envSpecSchema>;

export function emptySpec(): EnvSpec {
  return {
    schemaVersion: 1,
    toolchains: [],
    packageManagers: [],
    systemPackages: [],
    services: [],
    env: [],
    setup: [],
    ports: [],
    apps: [],
    jobs: [],
    flake: null,
  };
}

/**
 * Sorts the set-like collections so that the order detectors happened to run in does not change
 * the hash. `setup` keeps its order: install order is meaningful.
 */
export function normalizeSpec(spec: EnvSpec): EnvSpec {
  const by =
    <T>(...keys: ((item: T) => string | number)[]) =>
    (a: T, b: T): number => {
      for (const key of keys) {
        const x = key(a);
        const y = key(b);
        if (x < y) return -1;
        if (x > y) return 1;
      }
      return 0;
    };
  return {
    ...spec,
    toolchains: [...spec.toolchains].sort(by((t) => t.name)),
    packageManagers: [...spec.packageManagers].sort(
      by(
        (p) => p.toolchain,
        (p) => p.name,
      ),
    ),
    systemPackages: [...spec.systemPackages].sort(by((p) => p.name)),
    services: [...spec.services].sort(by((s) => s.name)),
    env: [...spec.env].sort(
      by(
        (e) => e.name,
        (e) => e.source.file,
      ),
    ),
    ports: [...spec.ports].sort(by((p) => p.port)),
    apps: [...spec.apps].sort(by((a) => a.name)),
    jobs: [...spec.jobs].sort(
      by(
        (j) => j.kind,
        (j) => j.name,
      ),
    ),
  };
}

function canonicalize(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(canonicalize);
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(value).sort()) {
      const v = (value as Record<string, unknown>)[key];
      // An absent optional and an explicit undefined must serialise the same way.
      if (v !== undefined) out[key] = canonicalize(v);
    }
    return out;
  }
  return value;
}

/** Sorted keys, set-like arrays in a stable order, no whitespace. */
export function canonicalJson(spec: EnvSpec): string {
  return JSON.stringify(canonicalize(normalizeSpec(envSpecSchema.parse(spec))));
}

/** sha256 (hex) of the canonical JSON. */
export function specHash(spec: EnvSpec): string {
  return createHash('sha256').update(canonicalJson(spec)).digest('hex');
}
