// Asks the programs on a PATH which versions they are, and compares that with what the spec
// wants. The host provider reports with it; the nix provider uses it for a repo's own flake,
// whose contents only the built environment can tell.

import { accessSync, constants, readdirSync, realpathSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { EnvSpec, Toolchain } from '../detect/env-spec.js';
import {
  compareVersions,
  parseRange,
  parseVersion,
  type RangeDialect,
  satisfies,
  versionsAgree,
} from '../detect/versions.js';
import type { ReportEntry } from './environment-provider.js';
import { runCommand } from './run-command.js';
import { describeSource } from './unsupported-version-error.js';

interface Probe {
  programs: string[];
  args: string[];
}

const toolchainProbes: Record<Toolchain['name'], Probe> = {
  node: { programs: ['node'], args: ['--version'] },
  python: { programs: ['python3', 'python'], args: ['--version'] },
  ruby: { programs: ['ruby'], args: ['--version'] },
  go: { programs: ['go'], args: ['version'] },
  rust: { programs: ['rustc'], args: ['--version'] },
};

const packageManagerProbes: Record<string, Probe> = {
  npm: { programs: ['npm'], args: ['--version'] },
  yarn: { programs: ['yarn'], args: ['--version'] },
  pnpm: { programs: ['pnpm'], args: ['--version'] },
  bun: { programs: ['bun'], args: ['--version'] },
  pip: { programs: ['pip3', 'pip'], args: ['--version'] },
  poetry: { programs: ['poetry'], args: ['--version'] },
  uv: { programs: ['uv'], args: ['--version'] },
  pdm: { programs: ['pdm'], args: ['--version'] },
  hatch: { programs: ['hatch'], args: ['--version'] },
  pipenv: { programs: ['pipenv'], args: ['--version'] },
  bundler: { programs: ['bundle'], args: ['--version'] },
  cargo: { programs: ['cargo'], args: ['--version'] },
  go: { programs: ['go'], args: ['version'] },
};

const serviceProbes: Record<string, Probe> = {
  postgres: { programs: ['postgres'], args: ['--version'] },
  mysql: { programs: ['mysqld'], args: ['--version'] },
  mariadb: { programs: ['mariadbd', 'mysqld'], args: ['--version'] },
  redis: { programs: ['redis-server'], args: ['--version'] },
  valkey: { programs: ['valkey-server'], args: ['--version'] },
  memcached: { programs: ['memcached'], args: ['-V'] },
  opensearch: { programs: ['opensearch'], args: ['--version'] },
  rabbitmq: { programs: ['rabbitmq-server'], args: [] },
  minio: { programs: ['minio'], args: ['--version'] },
  clickhouse: { programs: ['clickhouse'], args: ['--version'] },
  mailpit: { programs: ['mailpit'], args: ['version'] },
  meilisearch: { programs: ['meilisearch'], args: ['--version'] },
  nats: { programs: ['nats-server'], args: ['--version'] },
  toxiproxy: { programs: ['toxiproxy-server'], args: ['--version'] },
  gotenberg: { programs: ['gotenberg'], args: ['--version'] },
  tika: { programs: ['tika-server'], args: ['--version'] },
};

const rangeDialect: Partial<Record<Toolchain['name'], RangeDialect>> = {
  node: 'npm',
  python: 'pep440',
  ruby: 'gem',
};

export function findOnPath(program: string, path: string): string | undefined {
  for (const dir of path.split(':')) {
    if (!dir.startsWith('/')) continue;
    const candidate = join(dir, program);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}

/** Debian keeps server binaries of each PostgreSQL major off PATH, under /usr/lib/postgresql/<major>/bin. */
function postgresDirs(): string[] {
  try {
    return readdirSync('/usr/lib/postgresql')
      .filter((d) => /^\d+$/.test(d))
      .sort((a, b) => Number(b) - Number(a))
      .map((d) => `/usr/lib/postgresql/${d}/bin`);
  } catch {
    return [];
  }
}

/** The first dotted version in a program's output: `v20.20.2`, `go1.22.6`, `Python 3.11.7`. */
export function versionIn(output: string): string | null {
  const m = /(?:^|[^\d.])(\d+\.\d+(?:\.\d+)?(?:-nightly|-beta(?:\.\d+)?)?)/.exec(output);
  return m?.[1] ?? null;
}

/**
 * Versions already asked, by the program's real file and its size and modification time: the
 * same binary answers the same, and asking `npm --version` costs a few hundred milliseconds.
 */
const askedVersions = new Map<string, string | null>();

function binaryIdentity(file: string, args: readonly string[]): string | undefined {
  try {
    const real = realpathSync(file);
    const info = statSync(real);
    return `${real}\0${info.size}\0${info.mtimeMs}\0${args.join(' ')}`;
  } catch {
    return undefined;
  }
}

async function probe(
  p: Probe,
  path: string,
  env: NodeJS.ProcessEnv,
  signal?: AbortSignal,
): Promise<string | null | undefined> {
  for (const program of p.programs) {
    const found = findOnPath(program, path);
    if (found === undefined) continue;
    const identity = binaryIdentity(found, p.args);
    if (identity !== undefined && askedVersions.has(identity)) return askedVersions.get(identity);
    try {
      const r = await runCommand(found, p.args, {
        env: { ...env, PATH: path },
        timeoutMs: 15_000,
        ...(signal ? { signal } : {}),
      });
      const version = versionIn(`${r.stdout}\n${r.stderrTail.join('\n')}`);
      if (identity !== undefined && r.code === 0) askedVersions.set(identity, version);
      return version;
    } catch {
      return null;
    }
  }
  return undefined;
}

interface Wanted {
  version: string | null;
  requested?: string | undefined;
  resolution?: Toolchain['resolution'];
  name: string;
}

/** Whether the provided version satisfies what was wanted, by the kind of request it was. */
export function versionMatches(wanted: Wanted, provided: string): boolean {
  const w = wanted.version;
  if (w === null) return true;
  if (wanted.name === 'rust') {
    if (w === 'stable') return !/nightly|beta/.test(provided);
    if (w.startsWith('nightly')) return provided.includes('nightly');
  }
  const pv = parseVersion(provided);
  const wv = parseVersion(w);
  if (pv === null || wv === null) return w === provided;
  if (wanted.resolution === 'minimum') return compareVersions(pv, wv) >= 0;
  const dialect = rangeDialect[wanted.name as Toolchain['name']];
  if (wanted.resolution === 'range' && wanted.requested !== undefined && dialect !== undefined) {
    const range = parseRange(wanted.requested, dialect);
    if (range !== null) return satisfies(range, pv);
  }
  return versionsAgree(w, provided);
}

export interface ProbeOptions {
  /** The PATH to look on: the host's, or an activation environment's. */
  path: string;
  env?: NodeJS.ProcessEnv;
  signal?: AbortSignal;
  /** Who provides (`host`, `the environment`), for the messages. */
  provider: string;
}

/** One report entry per toolchain, package manager and service of the spec. */
export async function probeSpec(spec: EnvSpec, options: ProbeOptions): Promise<ReportEntry[]> {
  const env = options.env ?? process.env;
  const { path, signal, provider } = options;
  const entry = async (
    kind: ReportEntry['kind'],
    wanted: Wanted,
    p: Probe | undefined,
    source: { file: string; line?: number },
    searchPath = path,
  ): Promise<ReportEntry> => {
    const provided = p === undefined ? undefined : await probe(p, searchPath, env, signal);
    const asked = wanted.requested ?? wanted.version;
    const want = asked === null ? wanted.name : `${wanted.name} ${asked}`;
    const base = {
      kind,
      name: wanted.name,
      wanted: wanted.version,
      ...(wanted.requested !== undefined && wanted.requested !== wanted.version
        ? { requested: wanted.requested }
        : {}),
      source: describeSource(source),
    };
    if (provided === undefined) {
      return {
        ...base,
        provided: null,
        status: 'missing',
        message: `${want} wanted (from ${source.file}), ${provider} has none`,
      };
    }
    if (provided === null) {
      // Present, but it did not say which version it is: the program exists, which is what runs.
      return {
        ...base,
        provided: null,
        status: 'ok',
        message: `${wanted.name} present; its version is unknown`,
      };
    }
    const ok = versionMatches(wanted, provided);
    return {
      ...base,
      provided,
      status: ok ? 'ok' : 'mismatch',
      message: ok
        ? `${wanted.name} ${provided} (${asked ?? 'any version'} wanted, from ${source.file})`
        : `${want} wanted (from ${source.file}), ${provider} has ${provided}`,
    };
  };

  const jobs: Promise<ReportEntry>[] = [];
  for (const t of spec.toolchains) {
    const base = toolchainProbes[t.name];
    // Prefer the exact interpreter when several Pythons are installed (python3.12 beside python3).
    const line = t.name === 'python' ? /^(\d+\.\d+)/.exec(t.version)?.[1] : undefined;
    const p = line === undefined ? base : { ...base, programs: [`python${line}`, ...base.programs] };
    jobs.push(
      entry(
        'toolchain',
        { name: t.name, version: t.version, requested: t.requested, resolution: t.resolution },
        p,
        t.source,
      ),
    );
  }
  for (const pm of spec.packageManagers) {
    jobs.push(
      entry(
        'package-manager',
        { name: pm.name, version: pm.version ?? null },
        packageManagerProbes[pm.name],
        pm.source,
      ),
    );
  }
  for (const s of spec.services) {
    const p = serviceProbes[s.name];
    // The wanted major's directory first, so a host with several clusters reports the right one.
    const major = s.version === null ? null : /^\d+/.exec(s.version)?.[0];
    const pgDirs = s.name === 'postgres' ? postgresDirs() : [];
    pgDirs.sort((a, b) => Number(b.includes(`/${major}/`)) - Number(a.includes(`/${major}/`)));
    const searchPath = [path, ...pgDirs].join(':');
    jobs.push(entry('service', { name: s.name, version: s.version }, p, s.source, searchPath));
  }
  return Promise.all(jobs);
}
