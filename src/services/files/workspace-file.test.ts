// Reading what a sandbox wrote, from the host: symlinks (at the end or on the way), FIFOs, `..`
// and oversized files are refused instead of followed, waited on or read whole.

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { plainPath, presentIn, readWorkspaceFile } from './workspace-file.js';

const exec = promisify(execFile);

describe('workspace files', () => {
  let root: string;
  let outside: string;

  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'nixspace-wsfile-'));
    outside = await mkdtemp(join(tmpdir(), 'nixspace-wsfile-outside-'));
    await writeFile(join(outside, 'secret'), 'secret');
    await mkdir(join(root, 'web'));
    await writeFile(join(root, 'web', 'package.json'), '{"name":"web"}');
    await symlink(join(outside, 'secret'), join(root, 'linked.json'));
    await symlink(outside, join(root, 'linked-dir'));
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

  it('tells what is present, a dangling symlink included, without following it', async () => {
    await symlink(join(outside, 'nothing'), join(root, 'dangling.lock'));
    assert.equal(await presentIn(root, 'dangling.lock'), true);
    assert.equal(await presentIn(root, 'web/package.json'), true);
    assert.equal(await presentIn(root, 'web/pnpm-lock.yaml'), false);
    assert.equal(await presentIn(root, 'linked-dir/secret'), false);
  });
});
