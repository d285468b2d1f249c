// What the pinned nixpkgs (nixpkgs-pin.ts, nixos-25.11) supplies, and the rules that map an
// EnvSpec fact to a nixpkgs attribute. Only this file knows attribute names; a bump of the pin
// means editing these tables. Every expression here is a constant: nothing a repository writes
// ever reaches a generated flake through this table.
//
// | spec                  | nixpkgs attribute                        | not supplied by this pin            |
// |-----------------------|------------------------------------------|-------------------------------------|
// | node 20 22 24 25      | nodejs_20 … nodejs_25                    | 18 and older (EOL), 26 (too new)    |
// | python 3.10 – 3.14    | python310 … python314                    | 3.9 and older (EOL), 3.15           |
// | ruby 3.2 – 3.4        | ruby_3_2 ruby_3_3 ruby_3_4               | 3.1 and older (EOL), 4.0 (too new)  |
// | go 1.24 1.25          | go_1_24 go_1_25 (older asks get 1.24)    | 1.26 and newer                      |
// | rust stable, ≤ 1.91   | rustc cargo rustfmt clippy (1.91)        | nightly/beta, anything above 1.91   |
// | postgres 14 – 18      | postgresql_14 … postgresql_18            | 13 and older (EOL)                  |
// | mysql 8.0 8.4         | mysql80 mysql84                          | 5.7, 9.x                            |
// | mariadb 10.6 … 11.8   | mariadb_106 mariadb_1011 mariadb_114 …   | other lines                         |
// | redis valkey memcached opensearch rabbitmq minio clickhouse kafka zookeeper mailpit meilisearch typesense nats toxiproxy gotenberg tika | one attribute each, nixpkgs' version | mongodb, elasticsearch (unfree), localstack |
//
// How a toolchain version picks a line, by the spec's `resolution`:
// - exact, alias: that line or nothing (the repo pinned it). Go is the exception: since Go 1.21 a
//   newer toolchain builds an older module exactly as the module's `go` line says, so Go takes the
//   oldest supplied line at or above the pin, with a note.
// - range: the newest supplied line inside the repo's constraint (`requested`).
// - minimum: the detected line if supplied, else the oldest supplied line above it.
// - default: the detected line if supplied, else the newest supplied line (the repo said nothing).
// Rust: nixpkgs carries one stable rustc. An exact pin at or below it maps to it with a note
// (Rust's stability promise; exact toolchains would need rust-overlay, which NixSpace does not
// add); nightly and beta are refused, since nightly-only features cannot build on stable.

import type { PackageManager, Service, SystemPackage, Toolchain, ToolchainName } from '../detect/env-spec.js';
import {
  compareVersions,
  lineSatisfies,
  parseRange,
  parseVersion,
  type RangeDialect,
} from '../detect/versions.js';
import { nixpkgsPin } from './nixpkgs-pin.js';

const nixpkgsBranchLabel = nixpkgsPin.branch;

/** A nixpkgs expression over `pkgs`, e.g. `pkgs.nodejs_24` or `(pkgs.yarn.override { … })`. */
export type NixExpression = string;

export type AttributeResolution =
  | {
      ok: true;
      /** Expressions to put in the devShell's packages (empty when another package brings it). */
      packages: NixExpression[];
      /** The release line supplied (`24`, `3.12`), or null when it is simply nixpkgs' version. */
      provides: string | null;
      /** Set when what is supplied differs from what was asked, saying why that is acceptable. */
      note?: string;
    }
  | {
      ok: false;
      /** Why this pin cannot supply it, for the UNSUPPORTED_VERSION message. */
      reason: string;
      /** What this pin does supply instead. */
      available: string[];
    };

const pkg = (attribute: string): NixExpression => `pkgs.${attribute}`;

/** Toolchain release lines this pin supplies, oldest first. */
export const toolchainLines: Readonly<Record<Exclude<ToolchainName, 'rust'>, Record<string, string>>> = {
  node: { '20': 'nodejs_20', '22': 'nodejs_22', '24': 'nodejs_24', '25': 'nodejs_25' },
  python: {
    '3.10': 'python310',
    '3.11': 'python311',
    '3.12': 'python312',
    '3.13': 'python313',
    '3.14': 'python314',
  },
  ruby: { '3.2': 'ruby_3_2', '3.3': 'ruby_3_3', '3.4': 'ruby_3_4' },
  go: { '1.24': 'go_1_24', '1.25': 'go_1_25' },
};

/** The one Rust toolchain of this pin: nixpkgs' rustc and its companions. */
export const rustStable = { line: '1.91', attributes: ['rustc', 'cargo', 'rustfmt', 'clippy'] } as const;

const rangeDialect: Partial<Record<ToolchainName, RangeDialect>> = {
  node: 'npm',
  python: 'pep440',
  ruby: 'gem',
};

/** The release line a version belongs to: the major for Node, major.minor for the others. */
export function releaseLine(name: ToolchainName, version: string): string | null {
  const v = parseVersion(version);
  if (!v) return null;
  if (name === 'node') return String(v[0]);
  return `${v[0]}.${v[1] ?? 0}`;
}

function cmpLine(a: string, b: string): number {
  return compareVersions(parseVersion(a) ?? [], parseVersion(b) ?? []);
}

function supplied(line: string, attribute: string, wantedLine: string, note?: string): AttributeResolution {
  return {
    ok: true,
    packages: [pkg(attribute)],
    provides: line,
    ...(line !== wantedLine && note !== undefined ? { note } : {}),
  };
}

export function resolveToolchain(toolchain: Toolchain): AttributeResolution {
  if (toolchain.name === 'rust') return resolveRust(toolchain);
  const table = toolchainLines[toolchain.name];
  const lines = Object.keys(table).sort(cmpLine);
  const wanted = releaseLine(toolchain.name, toolchain.version);
  if (wanted === null) {
    return { ok: false, reason: `"${toolchain.version}" is not a version number`, available: lines };
  }
  const exact = table[wanted];
  const oldestAbove = lines.find((l) => cmpLine(l, wanted) >= 0);
  const newest = lines[lines.length - 1];
  const tooNew = (): AttributeResolution => ({
    ok: false,
    reason:
      cmpLine(wanted, newest ?? '0') > 0
        ? `nixpkgs ${nixpkgsBranchLabel} stops at ${newest}`
        : `${toolchain.name} ${wanted} is end-of-life and no longer in nixpkgs ${nixpkgsBranchLabel}`,
    available: lines,
  });

  if (toolchain.name === 'go' && toolchain.resolution !== 'range') {
    if (oldestAbove === undefined) return tooNew();
    return supplied(
      oldestAbove,
      table[oldestAbove] ?? '',
      wanted,
      `go ${oldestAbove} builds modules written for go ${wanted} (Go's toolchain compatibility)`,
    );
  }

  switch (toolchain.resolution) {
    case 'exact':
    case 'alias':
      return exact === undefined ? tooNew() : supplied(wanted, exact, wanted);
    case 'range': {
      const dialect = rangeDialect[toolchain.name];
      const range =
        toolchain.requested !== undefined && dialect !== undefined
          ? parseRange(toolchain.requested, dialect)
          : null;
      if (exact !== undefined) return supplied(wanted, exact, wanted);
      const inside = range === null ? [] : lines.filter((l) => lineSatisfies(range, l));
      const pick = inside[inside.length - 1];
      if (pick === undefined) {
        return {
          ok: false,
          reason: `no line of nixpkgs ${nixpkgsBranchLabel} satisfies "${toolchain.requested ?? toolchain.version}"`,
          available: lines,
        };
      }
      return supplied(
        pick,
        table[pick] ?? '',
        wanted,
        `${pick} is the newest line nixpkgs supplies within "${toolchain.requested}"`,
      );
    }
    case 'minimum':
      if (exact !== undefined) return supplied(wanted, exact, wanted);
      if (oldestAbove === undefined) return tooNew();
      return supplied(
        oldestAbove,
        table[oldestAbove] ?? '',
        wanted,
        `${oldestAbove} meets the minimum ${wanted}`,
      );
    case 'default':
      if (exact !== undefined) return supplied(wanted, exact, wanted);
      if (newest === undefined) return tooNew();
      return supplied(
        newest,
        table[newest] ?? '',
        wanted,
        `the repo pins no version; ${newest} is the newest line nixpkgs ${nixpkgsBranchLabel} supplies`,
      );
  }
}

function resolveRust(toolchain: Toolchain): AttributeResolution {
  const packages = rustStable.attributes.map(pkg);
  const available = [`stable (${rustStable.line})`];
  const version = toolchain.version;
  if (version === 'stable') return { ok: true, packages, provides: rustStable.line };
  if (/^(nightly|beta)/.test(version)) {
    return {
      ok: false,
      reason: `nixpkgs supplies only stable Rust; ${version.split('-')[0]} toolchains need rust-overlay, which NixSpace does not add yet`,
      available,
    };
  }
  const wanted = releaseLine('rust', version);
  if (wanted === null) return { ok: false, reason: `"${version}" is not a Rust version`, available };
  if (cmpLine(wanted, rustStable.line) > 0) {
    return { ok: false, reason: `nixpkgs ${nixpkgsBranchLabel} supplies Rust ${rustStable.line}`, available };
  }
  if (toolchain.resolution === 'minimum' || wanted === rustStable.line) {
    return { ok: true, packages, provides: rustStable.line };
  }
  return {
    ok: true,
    packages,
    provides: rustStable.line,
    note: `Rust ${version} is pinned; nixpkgs supplies ${rustStable.line}, which builds code written for ${wanted} (exact Rust versions need rust-overlay)`,
  };
}

// ---------------------------------------------------------------------------------------------
// Package managers

/**
 * Package managers that come with their toolchain (npm with node, cargo with rust, go itself) map
 * to nothing. Version-specific attributes exist for pnpm and yarn berry; otherwise nixpkgs' one
 * version is supplied (the project's own lockfile still drives the install).
 */
export function resolvePackageManager(
  pm: PackageManager,
  context: { python?: string; ruby?: string; node?: string },
): AttributeResolution {
  const major = pm.version === undefined ? null : (parseVersion(pm.version)?.[0] ?? null);
  const byMajor = (
    attributes: Record<number, string>,
    fallback: string,
    fallbackLine: string,
  ): AttributeResolution => {
    const attribute = major === null ? undefined : attributes[major];
    if (attribute !== undefined) return { ok: true, packages: [pkg(attribute)], provides: String(major) };
    return {
      ok: true,
      packages: [pkg(fallback)],
      provides: fallbackLine,
      ...(major === null
        ? {}
        : { note: `${pm.name} ${pm.version} is asked for; nixpkgs supplies ${pm.name} ${fallbackLine}` }),
    };
  };
  switch (pm.name) {
    case 'npm':
    case 'cargo':
    case 'go':
      return { ok: true, packages: [], provides: null };
    case 'pnpm':
      return byMajor({ 9: 'pnpm_9', 10: 'pnpm_10' }, 'pnpm_10', '10');
    case 'yarn':
      if (pm.variant === 'berry')
        return byMajor({ 3: 'yarn-berry_3', 4: 'yarn-berry_4' }, 'yarn-berry_4', '4');
      // yarn 1 runs on nixpkgs' default Node unless told otherwise; give it the project's.
      return {
        ok: true,
        packages: [
          context.node === undefined
            ? pkg('yarn')
            : `(pkgs.yarn.override { nodejs = ${pkg(context.node)}; })`,
        ],
        provides: '1',
      };
    case 'bun':
      return { ok: true, packages: [pkg('bun')], provides: null };
    case 'pip':
      // nixpkgs' Python has no pip module of its own (venvs get one from ensurepip).
      return {
        ok: true,
        packages: [pkg(`${context.python ?? 'python3'}Packages.pip`)],
        provides: null,
      };
    case 'poetry':
    case 'uv':
    case 'pdm':
    case 'hatch':
    case 'pipenv':
      return { ok: true, packages: [pkg(pm.name)], provides: null };
    case 'bundler':
      return {
        ok: true,
        packages: [
          context.ruby === undefined
            ? pkg('bundler')
            : `(pkgs.bundler.override { ruby = ${pkg(context.ruby)}; })`,
        ],
        provides: null,
      };
  }
}

// ---------------------------------------------------------------------------------------------
// Services

interface ServiceAttributes {
  /** Line → attribute; a lookup tries major.minor, then the major. */
  lines?: Record<string, string>;
  /** Used when the spec names no version, and for services nixpkgs ships in one version. */
  default: string;
  defaultLine: string | null;
}

export const serviceAttributes: Readonly<Record<string, ServiceAttributes>> = {
  postgres: {
    lines: {
      '14': 'postgresql_14',
      '15': 'postgresql_15',
      '16': 'postgresql_16',
      '17': 'postgresql_17',
      '18': 'postgresql_18',
    },
    default: 'postgresql_17',
    defaultLine: '17',
  },
  mysql: {
    lines: { '8.0': 'mysql80', '8.4': 'mysql84', '8': 'mysql84' },
    default: 'mysql84',
    defaultLine: '8.4',
  },
  mariadb: {
    lines: {
      '10.6': 'mariadb_106',
      '10.11': 'mariadb_1011',
      '10': 'mariadb_1011',
      '11.4': 'mariadb_114',
      '11.8': 'mariadb_118',
      '11': 'mariadb_118',
    },
    default: 'mariadb',
    defaultLine: null,
  },
  redis: { default: 'redis', defaultLine: null },
  valkey: { default: 'valkey', defaultLine: null },
  memcached: { default: 'memcached', defaultLine: null },
  opensearch: { default: 'opensearch', defaultLine: null },
  rabbitmq: { default: 'rabbitmq-server', defaultLine: null },
  minio: { default: 'minio', defaultLine: null },
  clickhouse: { default: 'clickhouse', defaultLine: null },
  kafka: { default: 'apacheKafka', defaultLine: null },
  zookeeper: { default: 'zookeeper', defaultLine: null },
  mailpit: { default: 'mailpit', defaultLine: null },
  meilisearch: { default: 'meilisearch', defaultLine: null },
  typesense: { default: 'typesense', defaultLine: null },
  nats: { default: 'nats-server', defaultLine: null },
  toxiproxy: { default: 'toxiproxy', defaultLine: null },
  gotenberg: { default: 'gotenberg', defaultLine: null },
  tika: { default: 'tika', defaultLine: null },
};

/** Services nixpkgs does not build (unfree licences) or does not package at all. */
export const servicesNotInNixpkgs: Readonly<Record<string, string>> = {
  mongodb: 'MongoDB is unfree (SSPL) and not built by nixpkgs',
  elasticsearch: 'Elasticsearch is unfree and not built by nixpkgs; OpenSearch is',
  localstack: 'LocalStack is not packaged in nixpkgs',
};

/**
 * `null` when nixpkgs does not package the service at all (the caller reports it and moves on:
 * the services layer may run it another way); an unsupported result when it does, but not the
 * version asked for.
 */
export function resolveService(service: Service): AttributeResolution | null {
  const entry = serviceAttributes[service.name];
  if (entry === undefined) return null;
  if (service.version === null || entry.lines === undefined) {
    return { ok: true, packages: [pkg(entry.default)], provides: entry.defaultLine };
  }
  const v = parseVersion(service.version);
  const lines = entry.lines;
  const candidates = v === null ? [] : [`${v[0]}.${v[1] ?? 0}`, String(v[0])];
  for (const line of candidates) {
    const attribute = lines[line];
    if (attribute !== undefined) return { ok: true, packages: [pkg(attribute)], provides: line };
  }
  return {
    ok: false,
    reason: `nixpkgs ${nixpkgsBranchLabel} does not supply ${service.name} ${service.version}`,
    available: Object.keys(lines),
  };
}

// ---------------------------------------------------------------------------------------------
// System packages (native libraries that client libraries build against)

export const systemPackageAttributes: Readonly<Record<string, string>> = {
  libpq: 'libpq',
  libmysqlclient: 'libmysqlclient',
  libvips: 'vips',
  imagemagick: 'imagemagick',
  sqlite: 'sqlite',
  curl: 'curl',
  openldap: 'openldap',
  cairo: 'cairo',
  pango: 'pango',
};

/** Null for a name this table does not know: it is reported, never spliced into the flake. */
export function resolveSystemPackage(p: SystemPackage): NixExpression | null {
  const attribute = systemPackageAttributes[p.name];
  return attribute === undefined ? null : pkg(attribute);
}
