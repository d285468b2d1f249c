// The dependency installer over real files and real shell runs: one install per lockfile, restored
// from the cache for other workspaces and earlier lockfiles, and left alone when a workspace
// already has exactly that install (switching between commits that share a lockfile).

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { DependencyInstaller, type ScriptRunner } from './dependency-installer.js';
import type { InstallPlan } from './dependency-plan.js';

const plan: InstallPlan = {
  label: 'npm ci',
  manager: 'npm',
  toolchain: 'node',
  // Writes the lockfile's content into the artifact, so a restore can be told from an install.
  script: 'mkdir -p node_modules && cp package-lock.json node_modules/installed-from && echo installing',
  lockfiles: ['package-lock.json'],
  manifests: ['package.json'],
  artifacts: ['repo/node_modules'],
};

describe('DependencyInstaller', () => {
  let root: string;
  let runs = 0;
  const run: ScriptRunner = async (script, options) => {
    runs++;
    const child = spawn('bash', ['-c', script], { cwd: options.cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout.on('data', (chunk: Buffer) => options.onLine(chunk.toString().trim()));
    const [code] = (await once(child, 'exit')) as [number];
    return code;
  };

  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'nixspace-installer-'));
  });
  after(async () => {
    await rm(root, { recursive: true, force: true });
  });

  async function workspace(name: string, lock: string): Promise<string> {
    const dir = join(root, name);
    await mkdir(join(dir, 'repo'), { recursive: true });
    await writeFile(join(dir, 'repo', 'package-lock.json'), lock);
    return dir;
  }

  it('installs once per lockfile, restores earlier ones, and leaves an unchanged install alone', async () => {
    const installer = new DependencyInstaller(join(root, 'cache'));
    const install = async (dir: string) => {
      const [outcome] = await installer.install([plan], {
        workspaceDir: dir,
        environmentHash: 'env-1',
        run,
        onLog: () => {},
      });
      return outcome!.result;
    };
    const a = await workspace('a', 'lock v1');
    assert.equal(await install(a), 'installed');
    assert.equal(runs, 1);
    assert.equal(await install(a), 'unchanged', 'same lockfile, same workspace: nothing to do');
    assert.equal(runs, 1);

    await writeFile(join(a, 'repo', 'package-lock.json'), 'lock v2');
    assert.equal(await install(a), 'installed');
    assert.equal(runs, 2);
    assert.equal(await readFile(join(a, 'repo', 'node_modules', 'installed-from'), 'utf8'), 'lock v2');

    // Back to the first lockfile: restored from the cache, not installed again.
    await writeFile(join(a, 'repo', 'package-lock.json'), 'lock v1');
    assert.equal(await install(a), 'cached');
    assert.equal(runs, 2);
    assert.equal(await readFile(join(a, 'repo', 'node_modules', 'installed-from'), 'utf8'), 'lock v1');
    assert.equal(await install(a), 'unchanged');

    // Another workspace with the same lockfile gets a copy.
    const b = await workspace('b', 'lock v1');
    assert.equal(await install(b), 'cached');
    assert.equal(runs, 2);

    // A workspace whose installed files were removed installs them back.
    await rm(join(b, 'repo', 'node_modules'), { recursive: true });
    assert.equal(await install(b), 'cached');
    assert.equal(await readFile(join(b, 'repo', 'node_modules', 'installed-from'), 'utf8'), 'lock v1');
  });

  it('installs a manifest without a lockfile once per workspace while it is unchanged, caching nothing', async () => {
    const installer = new DependencyInstaller(join(root, 'cache-manifest'));
    // No dependencies: the install leaves no node_modules, which must not count as "missing".
    const noLock: InstallPlan = {
      ...plan,
      label: 'npm install',
      script: 'echo nothing to install',
      lockfiles: [],
    };
    const install = async (dir: string) =>
      (
        await installer.install([noLock], {
          workspaceDir: dir,
          environmentHash: 'env-1',
          run,
          onLog: () => {},
        })
      )[0]!.result;
    const before = runs;
    const dir = join(root, 'manifest-only');
    await mkdir(join(dir, 'repo'), { recursive: true });
    await writeFile(join(dir, 'repo', 'package.json'), '{"name":"app"}');
    assert.equal(await install(dir), 'uncacheable');
    assert.equal(await install(dir), 'unchanged', 'same manifest, same workspace');
    assert.equal(runs, before + 1);
    await writeFile(join(dir, 'repo', 'package.json'), '{"name":"app","dependencies":{"left-pad":"1"}}');
    assert.equal(await install(dir), 'uncacheable', 'a changed manifest installs again');
    assert.equal(runs, before + 2);
    // Another workspace with the same manifest installs for itself: nothing is shared without a lockfile.
    const other = join(root, 'manifest-other');
    await mkdir(join(other, 'repo'), { recursive: true });
    await writeFile(join(other, 'repo', 'package.json'), '{"name":"app"}');
    assert.equal(await install(other), 'uncacheable');
    assert.equal(runs, before + 3);
  });
});
