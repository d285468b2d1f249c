// EnvSpec → flake.nix: a devShell on the pinned nixpkgs with the spec's toolchains, package
// managers, native libraries and services, plus its non-secret environment variables. The output
// depends only on build-relevant facts (never on where in a file a fact was found), so it can be
// hashed as the environment's identity.

import { type EnvSpec, normalizeSpec } from '../detect/env-spec.js';
import { nixAttributeName, nixString } from './nix-string.js';
import {
  type AttributeResolution,
  type NixExpression,
  resolvePackageManager,
  resolveService,
  resolveSystemPackage,
  resolveToolchain,
  servicesNotInNixpkgs,
  toolchainLines,
} from './nixpkgs-attributes.js';
import { nixpkgsFlakeLock, nixpkgsFlakeUrl } from './nixpkgs-pin.js';
import {
  describeSource,
  type UnsupportedFact,
  UnsupportedVersionError,
} from './unsupported-version-error.js';

/** The systems every generated flake offers a devShell for. */
export const flakeSystems = ['x86_64-linux', 'aarch64-linux'] as const;

export interface PlanNote {
  severity: 'warning' | 'info';
  message: string;
}

/** One fact of the spec and what the environment supplies for it. */
export interface SuppliedFact {
  kind: 'toolchain' | 'package-manager' | 'service' | 'system-package';
  name: string;
  wanted: string | null;
  /** The line the environment supplies; null when it is nixpkgs' only version, or nothing. */
  provided: string | null;
  /** False when nixpkgs has no package for it (reported, left out of the flake). */
  included: boolean;
  source: string;
  note?: string;
}

export interface GeneratedFlake {
  content: string;
  lock: string;
  supplied: SuppliedFact[];
  notes: PlanNote[];
}

/** Variables that the shell, Nix or the devShell itself own; a repo's .env must not override them. */
export const reservedVariables =
  /^(PATH|HOME|USER|SHELL|TERM|TMPDIR|TEMP|TMP|TEMPDIR|PWD|OLDPWD|IN_NIX_SHELL|NIX_.*|LD_.*|name|out|outputs|system|builder|args|stdenv|packages|shellHook|buildInputs|nativeBuildInputs|env|passthru|meta)$/;

/** Throws UnsupportedVersionError naming every toolchain and service version nixpkgs cannot supply. */
export function generateFlake(input: EnvSpec): GeneratedFlake {
  // Detectors' order must not reorder the package list (and so change the hash).
  const spec = normalizeSpec(input);
  const packages: NixExpression[] = [];
  const supplied: SuppliedFact[] = [];
  const notes: PlanNote[] = [];
  const unsupported: UnsupportedFact[] = [];
  const toolchainAttr: { node?: string; python?: string; ruby?: string } = {};

  const take = (
    fact: Omit<SuppliedFact, 'provided' | 'included' | 'note'>,
    resolution: AttributeResolution & { ok: true },
  ): void => {
    packages.push(...resolution.packages);
    supplied.push({
      ...fact,
      provided: resolution.provides,
      included: true,
      ...(resolution.note === undefined ? {} : { note: resolution.note }),
    });
    if (resolution.note !== undefined) {
      notes.push({ severity: 'info', message: `${fact.name}: ${resolution.note} (${fact.source})` });
    }
  };

  for (const t of spec.toolchains) {
    const r = resolveToolchain(t);
    if (!r.ok) {
      unsupported.push({ kind: 'toolchain', name: t.name, version: t.version, source: t.source, ...r });
      continue;
    }
    if (t.name === 'node' || t.name === 'python' || t.name === 'ruby') {
      const attribute = r.provides === null ? undefined : toolchainLines[t.name][r.provides];
      if (attribute !== undefined) toolchainAttr[t.name] = attribute;
    }
    take({ kind: 'toolchain', name: t.name, wanted: t.version, source: describeSource(t.source) }, r);
  }
  for (const s of spec.services) {
    const r = resolveService(s);
    const source = describeSource(s.source);
    if (r === null) {
      supplied.push({
        kind: 'service',
        name: s.name,
        wanted: s.version,
        provided: null,
        included: false,
        source,
      });
      notes.push({
        severity: 'warning',
        message: `${s.name} (from ${source}) is not in the environment: ${servicesNotInNixpkgs[s.name] ?? 'nixpkgs has no package NixSpace knows for it'}`,
      });
    } else if (!r.ok) {
      unsupported.push({ kind: 'service', name: s.name, version: s.version ?? '', source: s.source, ...r });
    } else {
      take({ kind: 'service', name: s.name, wanted: s.version, source }, r);
    }
  }
  if (unsupported.length > 0) throw new UnsupportedVersionError(unsupported);

  for (const p of spec.packageManagers) {
    const r = resolvePackageManager(p, toolchainAttr);
    // Every package manager resolves: an unknown version falls back to nixpkgs' own.
    if (r.ok)
      take(
        {
          kind: 'package-manager',
          name: p.name,
          wanted: p.version ?? null,
          source: describeSource(p.source),
        },
        r,
      );
  }
  let libraries = 0;
  for (const p of spec.systemPackages) {
    const expression = resolveSystemPackage(p);
    const source = describeSource(p.source);
    supplied.push({
      kind: 'system-package',
      name: p.name,
      wanted: null,
      provided: null,
      included: expression !== null,
      source,
    });
    if (expression === null) {
      notes.push({
        severity: 'warning',
        message: `system package ${p.name} (from ${source}) has no known nixpkgs attribute; left out`,
      });
      continue;
    }
    packages.push(expression);
    libraries++;
  }
  // Native extensions (pg, mysql2, ruby-vips) find their libraries through pkg-config.
  if (libraries > 0) packages.push('pkgs.pkg-config');

  const env: [string, string][] = [];
  for (const v of spec.env) {
    if (v.secret || v.value === null) continue;
    if (
      !/^[A-Za-z_][A-Za-z0-9_]*$/.test(v.name) ||
      reservedVariables.test(v.name) ||
      v.value.includes('\0')
    ) {
      notes.push({
        severity: 'warning',
        message: `environment variable ${JSON.stringify(v.name)} (from ${describeSource(v.source)}) is left out of the flake: reserved or not a valid name`,
      });
      continue;
    }
    env.push([v.name, v.value]);
  }
  env.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));

  return { content: renderFlake([...new Set(packages)], env), lock: nixpkgsFlakeLock(), supplied, notes };
}

function renderFlake(packages: NixExpression[], env: [string, string][]): string {
  const indent = '            ';
  const packageLines = packages.map((p) => `${indent}${p}\n`).join('');
  const envBlock =
    env.length === 0
      ? ''
      : `          env = {\n${env.map(([k, v]) => `${indent}${nixAttributeName(k)} = ${nixString(v)};\n`).join('')}          };\n`;
  return `# Generated by NixSpace from the repository's detected environment; regenerated, never edited.
{
  description = "NixSpace development environment";

  inputs.nixpkgs.url = ${nixString(nixpkgsFlakeUrl())};

  outputs = { self, nixpkgs }:
    let
      systems = [ ${flakeSystems.map((s) => nixString(s)).join(' ')} ];
      forAllSystems = f: nixpkgs.lib.genAttrs systems (system: f nixpkgs.legacyPackages.\${system});
    in
    {
      devShells = forAllSystems (pkgs: {
        default = pkgs.mkShell {
          packages = [
${packageLines}          ];
${envBlock}          shellHook = "";
        };
      });
    };
}
`;
}
