// Scores detection against the 30 labelled repositories of the shared corpus and fails below 95 %.
//
// Scoring rule, per repo (every point counts the same; the overall score is points / possible):
// - languages: 1 point × |expected ∩ detected| / |expected ∪ detected| over toolchain names.
// - package manager: 1 point per expected language whose detected manager matches.
// - version: 1 point per expected language that has a version AND that the repo itself pins in a
//   pin file (.nvmrc, .node-version, .tool-versions, volta, .python-version, runtime.txt,
//   .ruby-version, Gemfile.lock RUBY VERSION, an exact Gemfile `ruby`, rust-toolchain[.toml],
//   .go-version, a go.mod/go.work `toolchain` line). Ranges, MSRVs and go.mod's `go` minimum are
//   not pins: where only CI names a version, no file in the repo could tell a detector, so it is
//   not scored. Versions compare by release line: the major for Node, major.minor for Python,
//   Ruby, Go and numbered Rust, the channel name (stable, nightly) otherwise. The corpus README
//   says a repo's own pin beats its CI for a dev environment; every pinned repo's label already
//   records that pin, so the label is the reference.
// - services: 1 point × Jaccard over service names (both empty = 1). Versions are not scored:
//   labels take them from CI, repos from compose files, and the two often differ (see notes).
// Subdirectory-only toolchains (netbox's UI, paperless-ngx's src-ui, pydantic-core) are scored
// like any other: the snapshots do not include those folders, so they count as misses, and the
// table shows them.

import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { detectDirectory } from './detect.js';
import type { EnvSpec } from './env-spec.js';

const corpusDir = new URL('../../../shared/corpus/', import.meta.url).pathname;

interface Expected {
  repo: string;
  languages: { name: string; version: string | null; package_manager: string | null }[];
  services: { name: string; version: string | null }[];
  has_flake: boolean;
}

function read(dir: string, file: string): string | null {
  const path = join(dir, file);
  return existsSync(path) ? readFileSync(path, 'utf8') : null;
}

/** Whether the repo's own files pin a version of this language (independent of the detector). */
export function repoPins(dir: string, language: string): boolean {
  const toolVersions = read(dir, '.tool-versions') ?? '';
  const tool = (names: string[]) =>
    toolVersions.split('\n').some((l) => names.includes(l.trim().split(/\s+/)[0] ?? ''));
  switch (language) {
    case 'node': {
      const pkg = read(dir, 'package.json') ?? '';
      return (
        existsSync(join(dir, '.nvmrc')) ||
        existsSync(join(dir, '.node-version')) ||
        tool(['nodejs', 'node']) ||
        /"volta"\s*:/.test(pkg)
      );
    }
    case 'python':
      return (
        existsSync(join(dir, '.python-version')) || existsSync(join(dir, 'runtime.txt')) || tool(['python'])
      );
    case 'ruby':
      return (
        existsSync(join(dir, '.ruby-version')) ||
        tool(['ruby']) ||
        /^RUBY VERSION$/m.test(read(dir, 'Gemfile.lock') ?? '') ||
        /^\s*ruby\s+["']\d+\.\d+(\.\d+)?["']/m.test(read(dir, 'Gemfile') ?? '')
      );
    case 'rust':
      return existsSync(join(dir, 'rust-toolchain')) || existsSync(join(dir, 'rust-toolchain.toml'));
    case 'go':
      return (
        existsSync(join(dir, '.go-version')) ||
        tool(['golang', 'go']) ||
        /^toolchain\s+go/m.test(read(dir, 'go.mod') ?? '') ||
        /^toolchain\s+go/m.test(read(dir, 'go.work') ?? '')
      );
    default:
      return false;
  }
}

/** The part of a version that decides compatibility: see the scoring rule above. */
export function releaseLine(language: string, version: string): string {
  const channel = /^(stable|beta|nightly)/.exec(version);
  if (channel?.[1]) return channel[1];
  const parts = version.replace(/^v/, '').split('.');
  return language === 'node' ? (parts[0] ?? '') : parts.slice(0, 2).join('.');
}

function jaccard(a: Set<string>, b: Set<string>): number {
  if (a.size === 0 && b.size === 0) return 1;
  const inter = [...a].filter((x) => b.has(x)).length;
  return inter / new Set([...a, ...b]).size;
}

interface Row {
  repo: string;
  points: number;
  possible: number;
  misses: string[];
}

function score(expected: Expected, spec: EnvSpec, dir: string): Row {
  const misses: string[] = [];
  let points = 0;
  let possible = 0;
  const want = new Set(expected.languages.map((l) => l.name));
  const got = new Set(spec.toolchains.map((t) => t.name));
  const lang = jaccard(want, got);
  points += lang;
  possible += 1;
  if (lang < 1) misses.push(`languages ${[...got].sort().join('+') || '-'} ≠ ${[...want].sort().join('+')}`);

  for (const l of expected.languages) {
    if (l.package_manager) {
      possible += 1;
      const pm = spec.packageManagers.find((p) => p.toolchain === l.name)?.name;
      if (pm === l.package_manager) points += 1;
      else misses.push(`${l.name} pm ${pm ?? '-'} ≠ ${l.package_manager}`);
    }
    if (l.version && repoPins(dir, l.name)) {
      possible += 1;
      const v = spec.toolchains.find((t) => t.name === l.name)?.version;
      if (v && releaseLine(l.name, v) === releaseLine(l.name, l.version)) points += 1;
      else misses.push(`${l.name} version ${v ?? '-'} ≠ ${l.version}`);
    }
  }

  const svcWant = new Set(expected.services.map((s) => s.name));
  const svcGot = new Set(spec.services.map((s) => s.name));
  const svc = jaccard(svcWant, svcGot);
  points += svc;
  possible += 1;
  if (svc < 1)
    misses.push(`services ${[...svcGot].sort().join('+') || '-'} ≠ ${[...svcWant].sort().join('+') || '-'}`);
  return { repo: expected.repo, points, possible, misses };
}

test('detection scores at least 95 % on the labelled corpus', {
  skip: !existsSync(corpusDir) && 'no corpus at ../shared/corpus',
}, async () => {
  const repos = readdirSync(corpusDir)
    .filter((n) => existsSync(join(corpusDir, n, 'expected.json')))
    .sort();
  assert.equal(repos.length, 30, 'the corpus has 30 labelled repositories');
  const rows: Row[] = [];
  for (const name of repos) {
    const dir = join(corpusDir, name);
    const expected = JSON.parse(readFileSync(join(dir, 'expected.json'), 'utf8')) as Expected;
    const { spec } = await detectDirectory(dir);
    rows.push(score(expected, spec, dir));
  }
  const width = Math.max(...rows.map((r) => r.repo.length));
  const lines = rows.map(
    (r) =>
      `${r.repo.padEnd(width)}  ${r.points.toFixed(2).padStart(5)}/${r.possible}  ${((100 * r.points) / r.possible).toFixed(0).padStart(3)}%  ${r.misses.join('; ')}`,
  );
  const points = rows.reduce((s, r) => s + r.points, 0);
  const possible = rows.reduce((s, r) => s + r.possible, 0);
  const overall = (100 * points) / possible;
  console.log(
    `${'repo'.padEnd(width)}  score      %   misses\n${lines.join('\n')}\noverall: ${points.toFixed(2)}/${possible} = ${overall.toFixed(1)} %`,
  );
  assert.ok(overall >= 95, `overall ${overall.toFixed(1)} % is below 95 %`);
});

test('detection never crashes on any corpus repository, labelled or not', {
  skip: !existsSync(corpusDir) && 'no corpus at ../shared/corpus',
}, async () => {
  for (const name of readdirSync(corpusDir).filter((n) => n.includes('__'))) {
    const { spec, diagnostics } = await detectDirectory(join(corpusDir, name));
    assert.ok(spec.toolchains.length > 0, `${name}: at least one toolchain`);
    assert.ok(!diagnostics.some((d) => d.code === 'detector-failed'), `${name}: no detector failed`);
  }
});
