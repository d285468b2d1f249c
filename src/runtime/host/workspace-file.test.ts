// Reading what a sandbox wrote, from the host: symlinks (at the end or on the way), FIFOs, `..`
// and oversized files are refused instead of followed, waited on or read whole, and a directory
// swapped for a symlink while it is being read is never followed out of the root.

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { startSymlinkSwapper } from '../../../test/support/symlink-swapper.js';
import {
  kindBelow,
  listBelow,
  plainPath,
  presentIn,
  readBelow,
  readWorkspaceFile,
} from './workspace-file.js';

const exec = promisify(execFile);

describe('workspace files', () => {
  let root: string;
  let outside: string;

  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'nixspace-wsfile-'));
    outside = await mkdtemp(join(tmpdir(), 'nixspace-wsfile-outside-'));
    await writeFile(join(outside, 'secret'), 'secret');
    await mkdir(join(outside, 'web'));
    await writeFile(join(outside, 'web', 'package.json'), 'secret');
    await mkdir(join(root, 'web'));
    await writeFile(join(root, 'web', 'package.json'), '{"name":"web"}');
    await symlink(join(outside, 'secret'), join(root, 'linked.json'));
    await symlink(outside, join(root, 'linked-dir'));
    await symlink('web', join(root, 'web-alias'));
    await mkdir(join(root, 'deep', 'er'), { recursive: true });
    await symlink(outside, join(root, 'deep', 'er', 'out'));
    await exec('mkfifo', [join(root, 'fifo.json')]);
    await writeFile(join(root, 'big.json'), 'x'.repeat(100));
  });
  after(async () => {
    await rm(root, { recursive: true, force: true });
    await rm(outside, { recursive: true, force: true });
  });

  it('reads a regular file in a real directory', async () => {
    assert.equal((await readWorkspaceFile(root, 'web/package.json', 1024))?.toString(), '{"name":"web"}');
    assert.equal(await plainPath(root, 'web/node_modules'), true);
  });

  it('refuses symlinks at the end and on the way, FIFOs without waiting, `..` and files over the limit', async () => {
    assert.equal(await readWorkspaceFile(root, 'linked.json', 1024), undefined);
    assert.equal(await readWorkspaceFile(root, 'linked-dir/secret', 1024), undefined);
    assert.equal(await plainPath(root, 'linked-dir/node_modules'), false);
    assert.equal(await readWorkspaceFile(root, 'fifo.json', 1024), undefined);
    assert.equal(await readWorkspaceFile(root, '../secret', 1024), undefined);
    assert.equal(await plainPath(root, 'web/../../x'), false);
    assert.equal(await readWorkspaceFile(root, 'big.json', 99), undefined);
    assert.equal(await readWorkspaceFile(root, 'missing.json', 1024), undefined);
  });

  it('names why a path was not read', async () => {
    const why = async (path: string) => {
      const outcome = await readBelow(root, path, { maxBytes: 1024 });
      return outcome.ok ? outcome.content.toString() : outcome.why;
    };
    assert.equal(await why('linked.json'), 'symlink');
    assert.equal(await why('linked-dir/web/package.json'), 'symlink');
    assert.equal(
      await why('web-alias/package.json'),
      'symlink',
      'a symlink inside the root is not followed either',
    );
    assert.equal(await why('deep/er/out/secret'), 'symlink');
    assert.equal(await why('fifo.json'), 'not-a-file');
    assert.equal(await why('web'), 'not-a-file');
    assert.equal(await why('big.json/x'), 'not-a-file');
    assert.equal(await why('../secret'), 'bad-path');
    assert.equal(await why('/etc/passwd'), 'bad-path');
    assert.equal(await why('missing.json'), 'absent');
    const big = await readBelow(root, 'big.json', { maxBytes: 10, truncate: true });
    assert.ok(big.ok && big.truncated && big.content.toString() === 'x'.repeat(10));
  });

  it('refuses a root that is itself a symlink', async () => {
    assert.equal(await readWorkspaceFile(join(root, 'linked-dir'), 'secret', 1024), undefined);
    assert.equal(await listBelow(join(root, 'linked-dir'), ''), undefined);
  });

  it('lists a directory with its symlinks as links, and tells what is present without following it', async () => {
    const listed = new Map((await listBelow(root, ''))?.map((e) => [e.name, e.kind]));
    assert.equal(listed.get('web'), 'dir');
    assert.equal(listed.get('big.json'), 'file');
    assert.equal(listed.get('linked.json'), 'link');
    assert.equal(listed.get('linked-dir'), 'link');
    assert.equal(listed.get('fifo.json'), 'other');
    assert.equal(await listBelow(root, 'linked-dir'), undefined);
    assert.deepEqual(await listBelow(root, 'deep'), [{ name: 'er', kind: 'dir' }]);
    assert.equal(await kindBelow(root, 'linked-dir'), 'link');
    assert.equal(await kindBelow(root, 'linked-dir/secret'), undefined);

    await symlink(join(outside, 'nothing'), join(root, 'dangling.lock'));
    assert.equal(await presentIn(root, 'dangling.lock'), true);
    assert.equal(await presentIn(root, 'web/package.json'), true);
    assert.equal(await presentIn(root, 'web/pnpm-lock.yaml'), false);
    assert.equal(await presentIn(root, 'linked-dir/secret'), false);
  });

  it('never reads outside the root while a directory on the way is swapped for a symlink', async () => {
    const race = await mkdtemp(join(tmpdir(), 'nixspace-wsfile-race-'));
    await mkdir(join(race, 'sub'));
    await writeFile(join(race, 'sub', 'x.txt'), 'inside');
    await mkdir(join(outside, 'race'));
    await writeFile(join(outside, 'race', 'x.txt'), 'OUTSIDE');
    // Another process swaps `sub` for a symlink to the outside and back, as fast as it can.
    const swapper = await startSymlinkSwapper(race, 'sub', join(outside, 'race'));
    try {
      const seen = { inside: 0, refused: 0 };
      for (let i = 0; i < 3000; i++) {
        const outcome = await readBelow(race, 'sub/x.txt', { maxBytes: 1024 });
        if (!outcome.ok) {
          seen.refused++;
          continue;
        }
        assert.equal(outcome.content.toString(), 'inside', `read ${i} returned what is outside the root`);
        seen.inside++;
      }
      assert.ok(seen.inside > 0, 'some reads found the real directory');
    } finally {
      await swapper.stop();
      await rm(race, { recursive: true, force: true });
    }
  });
});
