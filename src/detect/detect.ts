// Repository → EnvSpec: runs every detector (a repo can need several ecosystems, so none stops
// the others), merges their fragments, and returns the spec with the diagnostics found on the way.

import { shellWord } from '../runtime/host/shell-quote.js';
import { createContext, type Detector, type Fragment } from './detector.js';
import { envFilesDetector } from './detectors/env-files.js';
import { flakeDetector } from './detectors/flake.js';
import { goDetector } from './detectors/go.js';
import { jobsDetector } from './detectors/jobs.js';
import { nodeDetector } from './detectors/node.js';
import { pythonDetector } from './detectors/python.js';
import { rubyDetector } from './detectors/ruby.js';
import { rustDetector } from './detectors/rust.js';
import { servicesDetector } from './detectors/services.js';
import type { Diagnostic } from './diagnostics.js';
import { type EnvSpec, emptySpec, envSpecSchema, normalizeSpec, type Resolution } from './env-spec.js';
import { openRepoFiles, type RepoFiles, subdirRepoFiles } from './repo-files.js';

export interface DetectionResult {
  spec: EnvSpec;
  diagnostics: Diagnostic[];
}

/** In merge order: the root ecosystem detectors come before anything that infers a toolchain. */
export const detectors: readonly Detector[] = [
  nodeDetector,
  pythonDetector,
  rubyDetector,
  rustDetector,
  goDetector,
  servicesDetector,
  envFilesDetector,
  jobsDetector,
  flakeDetector,
];

const resolutionRank: Record<Resolution, number> = { exact: 0, alias: 1, range: 2, minimum: 3, default: 4 };

function dedupe<T>(items: T[], key: (item: T) => string, better?: (a: T, b: T) => boolean): T[] {
  const out = new Map<string, T>();
  for (const item of items) {
    const k = key(item);
    const existing = out.get(k);
    if (existing === undefined || better?.(item, existing)) out.set(k, item);
  }
  return [...out.values()];
}

function merge(fragments: Fragment[]): EnvSpec {
  const spec = emptySpec();
  for (const f of fragments) {
    spec.toolchains.push(...(f.toolchains ?? []));
    spec.packageManagers.push(...(f.packageManagers ?? []));
    spec.systemPackages.push(...(f.systemPackages ?? []));
    spec.services.push(...(f.services ?? []));
    spec.env.push(...(f.env ?? []));
    spec.setup.push(...(f.setup ?? []));
    spec.ports.push(...(f.ports ?? []));
    spec.apps.push(...(f.apps ?? []));
    spec.jobs.push(...(f.jobs ?? []));
    if (f.flake) spec.flake = f.flake;
  }
  // A toolchain seen twice (root Cargo.toml and a Python extension crate) keeps the better-pinned fact.
  spec.toolchains = dedupe(
    spec.toolchains,
    (t) => t.name,
    (a, b) => resolutionRank[a.resolution] < resolutionRank[b.resolution],
  );
  spec.packageManagers = dedupe(spec.packageManagers, (p) => `${p.toolchain}:${p.name}`);
  spec.systemPackages = dedupe(spec.systemPackages, (p) => p.name);
  spec.services = dedupe(
    spec.services,
    (s) => s.name,
    (a, b) => b.version === null && a.version !== null,
  );
  spec.env = dedupe(spec.env, (e) => e.name);
  spec.setup = dedupe(spec.setup, (s) => s.command);
  spec.ports = dedupe(spec.ports, (p) => String(p.port));
  spec.jobs = dedupe(spec.jobs, (j) => `${j.kind}:${j.name}`);

  // package.json scripts run through the project's own package manager; the name is one shell word.
  const nodePm = spec.packageManagers.find((p) => p.toolchain === 'node')?.name ?? 'npm';
  spec.jobs = spec.jobs.map((j) =>
    j.kind === 'npm-script' ? { ...j, command: `${nodePm} run ${shellWord(j.name)}` } : j,
  );
  return normalizeSpec(spec);
}

function dedupeDiagnostics(diagnostics: Diagnostic[]): Diagnostic[] {
  return dedupe(diagnostics, (d) => `${d.code}|${d.file ?? ''}|${d.line ?? ''}|${d.message}`);
}

const ecosystemDetectors = [nodeDetector, pythonDetector, rubyDetector, rustDetector, goDetector];

/** A manifest in a first-level folder marks a subproject (a UI in `src-ui/`, a crate in `foo-core/`). */
const subprojectManifests = ['package.json', 'pyproject.toml', 'Gemfile', 'Cargo.toml', 'go.mod'];
/** Everything the ecosystem detectors look at, probed in a subproject folder. */
const subprojectFiles = [
  ...subprojectManifests,
  'package-lock.json',
  'npm-shrinkwrap.json',
  'yarn.lock',
  'pnpm-lock.yaml',
  'bun.lock',
  'bun.lockb',
  '.yarnrc.yml',
  'pnpm-workspace.yaml',
  '.nvmrc',
  '.node-version',
  '.tool-versions',
  'setup.py',
  'setup.cfg',
  'Pipfile',
  'Pipfile.lock',
  'poetry.lock',
  'uv.lock',
  'pdm.lock',
  'hatch.toml',
  'requirements.txt',
  'requirements-dev.txt',
  '.python-version',
  'runtime.txt',
  'Gemfile.lock',
  '.ruby-version',
  'Cargo.lock',
  'rust-toolchain',
  'rust-toolchain.toml',
  'go.sum',
  'go.work',
  '.go-version',
];
/** Folders whose manifests are documentation sites, examples or fixtures, not part of the dev environment. */
const notSubprojects =
  /^(?:[._].*|docs?|website|site|examples?|samples?|tests?|spec|fixtures?|testdata|vendor|third[-_]party|node_modules|bench(?:es|marks?)?|scripts|tools?|contrib|dist|build|target|tmp|public|assets)$/i;

function prefixSource<T extends { source: { file: string; line?: number } }>(dir: string, item: T): T {
  return { ...item, source: { ...item.source, file: `${dir}/${item.source.file}` } };
}

/**
 * Toolchains that live only in a subdirectory. Only toolchains the root does not already bring are
 * added, with sources and install commands pointing into the folder.
 */
async function detectSubprojects(
  files: RepoFiles,
  rootToolchains: Set<string>,
): Promise<{ fragments: Fragment[]; diagnostics: Diagnostic[] }> {
  const fragments: Fragment[] = [];
  const diagnostics: Diagnostic[] = [];
  const dirs = (await files.listRoot())
    // A folder's name goes into setup commands (`cd web && npm ci`): only plain names qualify.
    .filter((e) => e.kind === 'dir' && /^[\w.-]+$/.test(e.name) && !notSubprojects.test(e.name))
    .map((e) => e.name)
    .sort();
  for (const dir of dirs) {
    const has = await Promise.all(subprojectManifests.map((m) => files.exists(`${dir}/${m}`)));
    if (!has.some(Boolean)) continue;
    const sub = await createContext(subdirRepoFiles(files, dir, subprojectFiles));
    for (const d of ecosystemDetectors) {
      let f: Fragment;
      try {
        f = await d.detect(sub.ctx);
      } catch {
        continue;
      }
      const toolchains = (f.toolchains ?? []).filter((t) => !rootToolchains.has(t.name));
      if (toolchains.length === 0) continue;
      const names = new Set(toolchains.map((t) => t.name));
      for (const name of names) rootToolchains.add(name);
      fragments.push({
        toolchains: toolchains.map((t) => prefixSource(dir, t)),
        packageManagers: (f.packageManagers ?? [])
          .filter((p) => names.has(p.toolchain))
          .map((p) => ({
            ...prefixSource(dir, p),
            ...(p.lockfile ? { lockfile: `${dir}/${p.lockfile}` } : {}),
          })),
        setup: (f.setup ?? [])
          .filter((c) => names.has(c.toolchain))
          .map((c) => ({ ...prefixSource(dir, c), command: `cd ${dir} && ${c.command}` })),
      });
    }
    diagnostics.push(
      ...sub.diagnostics.map((d) => ({ ...d, ...(d.file ? { file: `${dir}/${d.file}` } : {}) })),
    );
  }
  return { fragments, diagnostics };
}

export async function detectEnvironment(files: RepoFiles): Promise<DetectionResult> {
  const { ctx, diagnostics } = await createContext(files);
  const fragments = await Promise.all(
    detectors.map(async (d) => {
      try {
        return await d.detect(ctx);
      } catch (error) {
        diagnostics.push({
          severity: 'error',
          code: 'detector-failed',
          message: `the ${d.name} detector failed: ${error instanceof Error ? error.message : String(error)}`,
        });
        return {};
      }
    }),
  );
  const rootToolchains = new Set(fragments.flatMap((f) => (f.toolchains ?? []).map((t) => t.name)));
  const sub = await detectSubprojects(files, rootToolchains);
  diagnostics.push(...sub.diagnostics);
  const spec = envSpecSchema.parse(merge([...fragments, ...sub.fragments]));
  const order = { error: 0, warning: 1, info: 2 } as const;
  return {
    spec,
    diagnostics: dedupeDiagnostics(diagnostics).sort(
      (a, b) => order[a.severity] - order[b.severity] || (a.file ?? '').localeCompare(b.file ?? ''),
    ),
  };
}

/** Detects a checkout (or a corpus snapshot) on disk; what `nixspace detect` and the benchmark call. */
export async function detectDirectory(dir: string): Promise<DetectionResult> {
  return detectEnvironment(await openRepoFiles(dir));
}
