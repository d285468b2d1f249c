// Changes a branch makes to its environment without touching the repository: another version of a
// toolchain or service, another system package. They are kept on the workspace and applied over
// what detection finds at every build (creation, switch), so the branch keeps them as it moves.

import { z } from 'zod';
import { type EnvSpec, type Source, toolchainNameSchema } from '../../detect/env-spec.js';
import { serviceCatalog } from '../../detect/service-catalog.js';
import { NixSpaceError } from '../../errors.js';

/** Where an overridden fact says it came from. */
export const changesSource: Source = { file: 'branch changes' };

const version = z
  .string()
  .trim()
  // A version number (`22`, `3.12`, `1.90.0`, `15-alpine` is not one), or a channel name.
  .regex(/^(\d+(\.\d+){0,3}|lts|latest|stable|beta|nightly(-\d{4}-\d{2}-\d{2})?)$/, {
    error: (issue) => `"${String(issue.input)}" is not a version: use a number such as 22 or 3.12`,
  });

const packageName = z
  .string()
  .trim()
  .regex(/^[A-Za-z0-9][A-Za-z0-9._+-]{0,99}$/, {
    error: (issue) => `"${String(issue.input)}" is not a package name`,
  });

export const envChangesSchema = z.object({
  /** Toolchain → version: `{ "node": "22" }`. */
  toolchains: z.record(z.string(), version).optional(),
  /** Service → version: `{ "postgres": "14" }`; a service the repository does not use is added. */
  services: z.record(z.string(), version).optional(),
  /** System packages added to the environment (nixpkgs attribute names). */
  packages: z.array(packageName).max(100).optional(),
});
export type EnvChanges = z.infer<typeof envChangesSchema>;

/** Parses and checks changes, naming each problem; nothing is applied when one is wrong. */
export function parseEnvChanges(input: unknown): EnvChanges {
  const parsed = envChangesSchema.safeParse(input ?? {});
  if (!parsed.success) {
    throw new NixSpaceError(
      'BAD_REQUEST',
      parsed.error.issues
        .map((issue) => `${issue.path.length ? `${issue.path.join('.')}: ` : ''}${issue.message}`)
        .join('; '),
    );
  }
  const changes = parsed.data;
  const toolchains = toolchainNameSchema.options as readonly string[];
  for (const name of Object.keys(changes.toolchains ?? {})) {
    if (!toolchains.includes(name)) {
      throw new NixSpaceError(
        'BAD_REQUEST',
        `${name} is not a toolchain NixSpace provides; use one of ${toolchains.join(', ')}`,
      );
    }
  }
  const services = serviceCatalog.map((entry) => entry.name);
  for (const name of Object.keys(changes.services ?? {})) {
    if (!services.includes(name)) {
      throw new NixSpaceError(
        'BAD_REQUEST',
        `${name} is not a service NixSpace runs; use one of ${services.join(', ')}`,
      );
    }
  }
  return changes;
}

/** Later changes win over earlier ones (a branch of a branch keeps its parent's changes). */
export function mergeEnvChanges(base: EnvChanges | null | undefined, next: EnvChanges): EnvChanges {
  return {
    toolchains: { ...base?.toolchains, ...next.toolchains },
    services: { ...base?.services, ...next.services },
    packages: [...new Set([...(base?.packages ?? []), ...(next.packages ?? [])])],
  };
}

export function hasEnvChanges(changes: EnvChanges | null | undefined): changes is EnvChanges {
  return Boolean(
    changes &&
      (Object.keys(changes.toolchains ?? {}).length ||
        Object.keys(changes.services ?? {}).length ||
        (changes.packages ?? []).length),
  );
}

/** The detected spec with the changes over it. */
export function applyEnvChanges(spec: EnvSpec, changes: EnvChanges | null | undefined): EnvSpec {
  if (!hasEnvChanges(changes)) return spec;
  const toolchains = spec.toolchains.filter((t) => !(t.name in (changes.toolchains ?? {})));
  for (const [name, wanted] of Object.entries(changes.toolchains ?? {})) {
    const detected = spec.toolchains.find((t) => t.name === name);
    toolchains.push({
      name: name as EnvSpec['toolchains'][number]['name'],
      version: wanted,
      ...(detected ? { requested: detected.version } : {}),
      resolution: 'exact',
      source: changesSource,
    });
  }
  const services = spec.services.filter((s) => !(s.name in (changes.services ?? {})));
  for (const [name, wanted] of Object.entries(changes.services ?? {})) {
    services.push({ name, version: wanted, source: changesSource });
  }
  const systemPackages = [...spec.systemPackages];
  for (const name of changes.packages ?? []) {
    if (!systemPackages.some((p) => p.name === name)) {
      systemPackages.push({ name, reason: 'added to this branch', source: changesSource });
    }
  }
  return { ...spec, toolchains, services, systemPackages };
}

/** "node 22, postgres 14, +jq" */
export function describeEnvChanges(changes: EnvChanges): string {
  return [
    ...Object.entries(changes.toolchains ?? {}).map(([name, v]) => `${name} ${v}`),
    ...Object.entries(changes.services ?? {}).map(([name, v]) => `${name} ${v}`),
    ...(changes.packages ?? []).map((name) => `+${name}`),
  ].join(', ');
}
