// The repository's own flake is read from a checkout the workspace can write: a flake.nix or
// flake.lock that is a symlink (to a host file) or a FIFO is refused, never followed or waited on.

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { readRepoFlake } from './plan-environment.js';

const exec = promisify(execFile);

describe('readRepoFlake', () => {
  let root: string;
  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'nixspace-repo-flake-'));
    await writeFile(join(root, 'host-secret'), 'SIGNINGKEY');
  });
  after(async () => {
    await rm(root, { recursive: true, force: true });
  });

  async function repo(name: string): Promise<string> {
    const dir = join(root, name);
    await mkdir(dir);
    return dir;
  }

  it('reads a regular flake.nix and flake.lock', async () => {
    const dir = await repo('plain');
    await writeFile(join(dir, 'flake.nix'), '{ outputs = _: {}; }');
    assert.deepEqual(await readRepoFlake(dir), { content: '{ outputs = _: {}; }', lock: null });
    await writeFile(join(dir, 'flake.lock'), '{}');
    assert.equal((await readRepoFlake(dir)).lock, '{}');
  });

  it('refuses a symlinked flake.nix or flake.lock, and a FIFO, naming the file', async () => {
    const linked = await repo('linked');
    await symlink(join(root, 'host-secret'), join(linked, 'flake.nix'));
    await assert.rejects(readRepoFlake(linked), /flake\.nix is a symlink/);
    const lock = await repo('linked-lock');
    await writeFile(join(lock, 'flake.nix'), '{ }');
    await symlink(join(root, 'host-secret'), join(lock, 'flake.lock'));
    await assert.rejects(readRepoFlake(lock), /flake\.lock is a symlink/);
    const fifo = await repo('fifo');
    await exec('mkfifo', [join(fifo, 'flake.nix')]);
    await assert.rejects(readRepoFlake(fifo), /flake\.nix is not a regular file/);
  });
});
