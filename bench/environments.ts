// Figures for environments: detection over the corpus against reading the same files, an
// environment build (Nix, self-contained flake) against reusing it by hash, and a dependency
// install against restoring the same lockfile from the cache.

import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { detectDirectory } from '../src/detect/detect.js';
import { emptySpec } from '../src/detect/env-spec.js';
import { NixEnvironmentProvider } from '../src/nix/nix-provider.js';
import { giveTree } from '../src/runtime/host/give-tree.js';
import { RuntimeSandbox } from '../src/runtime/runtime-sandbox.js';
import { selectSandboxDriver } from '../src/runtime/select-driver.js';
import { TEST_SANDBOX_USER } from '../src/runtime/test-sandbox-user.js';
import { DependencyInstaller } from '../src/services/environments/dependency-installer.js';
import { installPlans } from '../src/services/environments/dependency-plan.js';
import { EnvironmentService } from '../src/services/environments/environment-service.js';
import { runScript } from '../src/services/workspaces/run-script.js';
import { Store } from '../src/store/store.js';
import { writeHelloFlake } from '../test/support/nix-fixtures.js';
import { type BenchResult, percentile, round, withRatio } from './results-file.js';

const corpus = fileURLToPath(new URL('../../shared/corpus', import.meta.url));

async function median(runs: number, fn: () => Promise<unknown>): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const started = performance.now();
    await fn();
    times.push(performance.now() - started);
  }
  return percentile(times, 50);
}

async function readAll(dir: string): Promise<void> {
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    if (entry.isFile()) await readFile(join(dir, entry.name));
  }
}

async function benchDetection(): Promise<BenchResult[]> {
  const repos = (await readdir(corpus, { withFileTypes: true }))
    .filter((e) => e.isDirectory())
    .map((e) => e.name);
  await detectDirectory(join(corpus, repos[0]!)); // load parsers once
  const detect: number[] = [];
  const raw: number[] = [];
  for (const repo of repos) {
    const dir = join(corpus, repo);
    detect.push(await median(5, () => detectDirectory(dir)));
    raw.push(await median(5, () => readAll(dir)));
  }
  return [
    withRatio({
      name: 'detection per corpus repo p50',
      value: round(percentile(detect, 50), 2),
      unit: 'ms',
      baseline: round(percentile(raw, 50), 2),
      note: `${repos.length} repos; baseline: reading every root file of the repo`,
    }),
    withRatio({
      name: 'detection per corpus repo max',
      value: round(Math.max(...detect), 2),
      unit: 'ms',
      baseline: round(Math.max(...raw), 2),
    }),
  ];
}

async function benchEnvironmentCache(): Promise<BenchResult[]> {
  const work = await mkdtemp(join(tmpdir(), 'nixspace-bench-env-'));
  const store = await Store.open({ pgliteDir: 'memory://' });
  try {
    const repo = join(work, 'repo');
    await mkdir(repo);
    // A greeting unique to this run, so the first build really builds.
    await writeHelloFlake(repo, `bench-${Date.now()}`);
    const spec = { ...emptySpec(), flake: { present: true as const, file: 'flake.nix' as const } };
    const service = new EnvironmentService({
      store,
      provider: new NixEnvironmentProvider({ offline: true }),
      environmentsDir: join(work, 'environments'),
    });
    const missStarted = performance.now();
    const miss = await service.build(spec, repo);
    const missMs = performance.now() - missStarted;
    const hitMs = await median(5, () => service.build(spec, repo));
    const hit = await service.build(spec, repo);
    if (miss.cached || !hit.cached) throw new Error('expected a miss, then hits');
    return [
      withRatio({
        name: 'environment reuse (same hash) vs first build',
        value: round(hitMs, 2),
        unit: 'ms',
        baseline: round(missMs, 1),
        note: 'Nix, a self-contained flake built offline; the hit is a lookup by hash',
      }),
    ];
  } finally {
    await store.close();
    await rm(work, { recursive: true, force: true });
  }
}

async function run(argv: string[], cwd: string): Promise<void> {
  const child = spawn(argv[0]!, argv.slice(1), { cwd, stdio: 'ignore' });
  const [code] = (await once(child, 'exit')) as [number | null];
  if (code !== 0) throw new Error(`${argv.join(' ')} exited ${code}`);
}

async function benchInstallCache(): Promise<BenchResult[]> {
  const work = await mkdtemp(join(tmpdir(), 'nixspace-bench-install-'));
  // A dependency shipped as a tarball with 1000 files: `npm ci` unpacks it without a registry.
  const dep = join(work, 'dep');
  await mkdir(join(dep, 'lib'), { recursive: true });
  await writeFile(join(dep, 'package.json'), JSON.stringify({ name: 'bench-dep', version: '1.0.0' }));
  for (let i = 0; i < 1000; i++)
    await writeFile(join(dep, 'lib', `m${i}.js`), `module.exports = ${i};\n`.repeat(20));
  await run(['npm', 'pack', '--silent', '--pack-destination', work], dep);
  const project = async (name: string) => {
    const dir = join(work, name, 'repo');
    await mkdir(join(work, name, 'home'), { recursive: true });
    await mkdir(dir, { recursive: true });
    await run(['cp', join(work, 'bench-dep-1.0.0.tgz'), dir], work);
    await writeFile(
      join(dir, 'package.json'),
      JSON.stringify({
        name: 'app',
        version: '1.0.0',
        dependencies: { 'bench-dep': 'file:bench-dep-1.0.0.tgz' },
      }),
    );
    await run(['npm', 'install', '--package-lock-only', '--offline', '--silent'], dir);
    return join(work, name);
  };
  const driver = await selectSandboxDriver({ unsafeNoSandbox: false });
  const installer = new DependencyInstaller(join(work, 'cache'));
  const spec = {
    ...emptySpec(),
    packageManagers: [
      {
        name: 'npm' as const,
        toolchain: 'node' as const,
        lockfile: 'package-lock.json',
        source: { file: 'package-lock.json' },
      },
    ],
    setup: [
      { command: 'npm ci --offline', toolchain: 'node' as const, source: { file: 'package-lock.json' } },
    ],
  };
  const installIn = async (workspaceDir: string) => {
    await giveTree(workspaceDir, TEST_SANDBOX_USER);
    const id = `bench-${Date.now()}`;
    const sandbox = await RuntimeSandbox.start(driver, {
      id,
      user: TEST_SANDBOX_USER,
      workspaceDir,
      // The server's directory for the agent's socket, beside the projects.
      agentDir: join(work, 'agents', id),
      network: 'none',
      limits: {},
    });
    try {
      const started = performance.now();
      const [outcome] = await installer.install(installPlans(spec), {
        workspaceDir,
        environmentHash: 'bench',
        cacheScope: 'bench',
        ownerScope: 'bench',
        onLog: () => {},
        run: (script, options) =>
          runScript(sandbox, script, {
            ...options,
            env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: join(workspaceDir, 'home') },
          }),
      });
      return { ms: performance.now() - started, result: outcome!.result };
    } finally {
      await sandbox.stop();
    }
  };
  try {
    const first = await installIn(await project('a'));
    const second = await installIn(await project('b'));
    if (first.result !== 'installed' || second.result !== 'cached')
      throw new Error(`unexpected ${first.result}/${second.result}`);
    return [
      withRatio({
        name: 'dependency install, cached (same lockfile) vs npm ci',
        value: round(second.ms, 1),
        unit: 'ms',
        baseline: round(first.ms, 1),
        note: 'npm ci of a 1000-file package in a sandbox, then a restore by copy',
      }),
    ];
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

export async function benchEnvironments(): Promise<BenchResult[]> {
  return [...(await benchDetection()), ...(await benchEnvironmentCache()), ...(await benchInstallCache())];
}
