// Copying an install out of a workspace: from below the workspace's root only, never through a
// symlink on the way (not even one swapped in while the copy starts), symlinks inside kept as links.

import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, readlink, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startSymlinkSwapper } from '../../../test/support/symlink-swapper.js';
import { copyTreeFromBelow } from './copy-tree.js';

describe('copyTreeFromBelow', () => {
  let root: string;
  let outside: string;
  let targets: string;
  let n = 0;
  const target = () => join(targets, `copy-${n++}`);

  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'nixspace-copy-below-'));
    outside = await mkdtemp(join(tmpdir(), 'nixspace-copy-outside-'));
    targets = await mkdtemp(join(tmpdir(), 'nixspace-copy-targets-'));
    await mkdir(join(outside, 'data'));
    await writeFile(join(outside, 'data', 'x.txt'), 'OUTSIDE');
    await mkdir(join(root, 'sub', 'data'), { recursive: true });
    await writeFile(join(root, 'sub', 'data', 'x.txt'), 'inside');
    await symlink(join(outside, 'data', 'x.txt'), join(root, 'sub', 'data', 'link'));
    await symlink(join(outside, 'data'), join(root, 'linked-data'));
    await symlink(outside, join(root, 'linked-sub'));
  });
  after(async () => {
    for (const dir of [root, outside, targets]) await rm(dir, { recursive: true, force: true });
  });

  it('copies a tree below the root, its symlinks as symlinks', async () => {
    const to = target();
    assert.ok(await copyTreeFromBelow(root, 'sub/data', to));
    assert.equal(await readFile(join(to, 'x.txt'), 'utf8'), 'inside');
    assert.equal(await readlink(join(to, 'link')), join(outside, 'data', 'x.txt'));
  });

  it('copies nothing that is a symlink or is reached through one', async () => {
    assert.equal(await copyTreeFromBelow(root, 'linked-data', target()), false);
    assert.equal(await copyTreeFromBelow(root, 'linked-sub/data', target()), false);
    assert.equal(await copyTreeFromBelow(root, '../outside', target()), false);
    assert.equal(await copyTreeFromBelow(root, 'missing', target()), false);
  });

  it('never copies from outside the root while a directory on the way is swapped for a symlink', async () => {
    const swapper = await startSymlinkSwapper(root, 'sub', outside);
    try {
      let copied = 0;
      for (let i = 0; i < 150; i++) {
        const to = target();
        if (!(await copyTreeFromBelow(root, 'sub/data', to).catch(() => false))) continue;
        const content = await readFile(join(to, 'x.txt'), 'utf8').catch(() => 'partial');
        assert.notEqual(content, 'OUTSIDE', `copy ${i} came from outside the root`);
        copied++;
      }
      assert.ok(copied > 0, 'some copies found the real directory');
    } finally {
      await swapper.stop();
    }
  });
});
