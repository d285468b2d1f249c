import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { loopDevicesReleased, unmountUnder } from '../../../test/support/mounts.js';
import { NixSpaceError } from '../../errors.js';
import { LoopVolumes, MIN_VOLUME_BYTES } from './loop-volumes.js';
import { mountsAt } from './mount-table.js';
import { PlainDirectories } from './plain-directories.js';
import { selectWorkspaceVolumes } from './select-volumes.js';

const MiB = 1024 * 1024;
const skip = process.getuid?.() === 0 ? false : 'mounting a loop device needs root';

describe('loop-mounted workspace volumes', { skip }, () => {
  let root: string;
  let volumes: LoopVolumes;
  const ids: string[] = [];

  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'nixspace-volumes-'));
    volumes = new LoopVolumes({ dir: join(root, 'volumes'), sizeBytes: 32 * MiB });
  });

  after(async () => {
    for (const id of ids) await volumes.remove(id, join(root, 'workspaces', id)).catch(() => {});
    await unmountUnder(root);
    await rm(root, { recursive: true, force: true });
  });

  function newWorkspace(): { id: string; dir: string } {
    const id = crypto.randomUUID();
    ids.push(id);
    return { id, dir: join(root, 'workspaces', id) };
  }

  it('makes an empty directory on a filesystem of its own, full at the quota, with the host spared', async () => {
    const { id, dir } = newWorkspace();
    await volumes.create(id, dir);
    assert.deepEqual(await readdir(dir), [], 'no lost+found or anything else');
    assert.equal((await mountsAt(dir)).length, 1);
    const usage = await volumes.usage(dir);
    assert.ok(usage.sizeBytes > 24 * MiB && usage.sizeBytes <= 32 * MiB, `size ${usage.sizeBytes}`);

    const dd = spawnSync('dd', ['if=/dev/zero', `of=${join(dir, 'big')}`, 'bs=1M', 'count=64'], {
      encoding: 'utf8',
    });
    assert.notEqual(dd.status, 0);
    assert.match(dd.stderr, /No space left on device/);
    assert.ok((await volumes.usage(dir)).freeBytes < MiB, 'the volume is full');
    const image = await stat(volumes.imagePath(id));
    assert.equal(image.size, 32 * MiB);
    assert.ok(image.blocks * 512 <= 32 * MiB, 'the image never takes more than its size');
  });

  it("owns the volume's root as asked, for the workspace's host user", async () => {
    const { id, dir } = newWorkspace();
    await volumes.create(id, dir, { owner: { uid: 4242, gid: 4343 } });
    const root = await stat(dir);
    assert.equal(root.uid, 4242);
    assert.equal(root.gid, 4343);
    assert.equal(root.mode & 0o777, 0o755);
  });

  it('keeps the files through unmount and mount, and mounts once when the volume is still mounted', async () => {
    const { id, dir } = newWorkspace();
    await volumes.create(id, dir);
    await writeFile(join(dir, 'kept.txt'), 'kept\n');
    await volumes.unmount(dir);
    assert.equal((await mountsAt(dir)).length, 0);
    assert.deepEqual(await readdir(dir), [], 'the mount point alone is left on the host');
    assert.equal(await volumes.mount(id, dir), true);
    assert.deepEqual(await readdir(dir), ['kept.txt']);
    // A new server process (after a crash) finds the kernel's mount and keeps it.
    const restarted = new LoopVolumes({ dir: join(root, 'volumes'), sizeBytes: 32 * MiB });
    assert.equal(await restarted.mount(id, dir), true);
    assert.equal((await mountsAt(dir)).length, 1, 'not mounted twice');
    await restarted.unmountAll();
    assert.equal((await mountsAt(dir)).length, 0, 'unmountAll unmounts what it found mounted');
  });

  it('removes the mount, the loop device, the image and the directory', async () => {
    const { id, dir } = newWorkspace();
    await volumes.create(id, dir);
    await writeFile(join(dir, 'file'), 'x');
    await volumes.remove(id, dir);
    assert.equal((await mountsAt(dir)).length, 0);
    assert.ok(await loopDevicesReleased(id), 'no loop device is left');
    assert.equal(existsSync(volumes.imagePath(id)), false);
    assert.equal(existsSync(dir), false);
    await volumes.remove(id, dir);
  });

  it('unmounts a volume a host process holds open, lazily', async () => {
    const { id, dir } = newWorkspace();
    await volumes.create(id, dir);
    const holder = spawnSync('sh', ['-c', `sleep 30 < /dev/null > ${join(dir, 'held')} 2>&1 & echo $!`], {
      encoding: 'utf8',
    });
    const pid = Number(holder.stdout.trim());
    try {
      await volumes.remove(id, dir);
      assert.equal((await mountsAt(dir)).length, 0);
      assert.equal(existsSync(volumes.imagePath(id)), false);
    } finally {
      process.kill(pid, 'SIGKILL');
    }
  });

  it('works in a data directory whose path has spaces', async () => {
    const id = crypto.randomUUID();
    const dir = join(root, 'my workspaces', id);
    await volumes.create(id, dir);
    await volumes.unmount(dir);
    assert.equal(await volumes.mount(id, dir), true);
    assert.equal(await volumes.mount(id, dir), true);
    assert.equal((await mountsAt(dir)).length, 1);
    await volumes.remove(id, dir);
    assert.equal((await mountsAt(dir)).length, 0);
  });

  it('says a workspace made without quotas has no volume', async () => {
    const { id, dir } = newWorkspace();
    await mkdir(dir, { recursive: true });
    assert.equal(await volumes.mount(id, dir), false);
  });

  it('leaves nothing behind when making the filesystem fails', async () => {
    const broken = new LoopVolumes({
      dir: join(root, 'volumes'),
      sizeBytes: 32 * MiB,
      mkfsPath: '/bin/false',
    });
    const { id, dir } = newWorkspace();
    await assert.rejects(broken.create(id, dir), (error) => error instanceof NixSpaceError);
    assert.equal(existsSync(broken.imagePath(id)), false);
    assert.equal(existsSync(dir), false);
    assert.ok(await loopDevicesReleased(id), 'no loop device is left');
  });

  it('refuses a volume smaller than ext4 needs, an id that is not one, and a directory in use', async () => {
    const { id, dir } = newWorkspace();
    await assert.rejects(volumes.create(id, dir, { sizeBytes: MIN_VOLUME_BYTES - 1 }), /at least 16 MiB/);
    await assert.rejects(volumes.create('../escape', dir), /invalid sandbox id/);
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, 'file'), 'x');
    await assert.rejects(volumes.create(id, dir), /not empty/);
    assert.equal(existsSync(volumes.imagePath(id)), false);
  });
});

describe('selectWorkspaceVolumes', () => {
  let root: string;

  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'nixspace-volumes-'));
  });

  after(async () => {
    await unmountUnder(root);
    await rm(root, { recursive: true, force: true });
  });

  it('enforces disk quotas when this host can make and mount a volume', { skip }, async () => {
    const volumes = await selectWorkspaceVolumes({
      unsafeNoDiskQuota: false,
      dir: root,
      sizeBytes: 10 * 1024 ** 3,
    });
    assert.equal(volumes.quota, true);
    assert.equal(volumes.sizeBytes, 10 * 1024 ** 3);
    assert.deepEqual(await readdir(root), [], 'the probe cleans up after itself');
    assert.ok(await loopDevicesReleased(root), 'no loop device is left');
  });

  it('clears what a probe cut off by a crash left mounted', { skip }, async () => {
    const stale = new LoopVolumes({ dir: root, sizeBytes: 64 * MiB });
    const dir = join(root, 'probe-1-1.mnt');
    await stale.create('probe-1-1', dir, { sizeBytes: MIN_VOLUME_BYTES });
    await new LoopVolumes({ dir: root, sizeBytes: 64 * MiB }).probe();
    assert.equal((await mountsAt(dir)).length, 0);
    assert.deepEqual(await readdir(root), []);
  });

  it('refuses to run without mkfs.ext4 or root, naming what is missing and the unsafe flag', async () => {
    const loop = new LoopVolumes({ dir: root, sizeBytes: 64 * MiB, mkfsPath: null, uid: 1000 });
    await assert.rejects(
      selectWorkspaceVolumes({ unsafeNoDiskQuota: false, dir: root, sizeBytes: 64 * MiB, loop }),
      (error) =>
        error instanceof NixSpaceError &&
        error.code === 'SANDBOX_UNAVAILABLE' &&
        error.message.includes('root (NixSpace runs as uid 1000)') &&
        error.message.includes("Debian package 'e2fsprogs'") &&
        error.message.includes('--unsafe-no-disk-quota'),
    );
  });

  it('reports why a volume could not be made and mounted', { skip }, async () => {
    const loop = new LoopVolumes({ dir: root, sizeBytes: 64 * MiB, mkfsPath: '/bin/false' });
    await assert.rejects(
      selectWorkspaceVolumes({ unsafeNoDiskQuota: false, dir: root, sizeBytes: 64 * MiB, loop }),
      (error) =>
        error instanceof NixSpaceError &&
        error.code === 'SANDBOX_UNAVAILABLE' &&
        /making the filesystem failed/.test(error.detail ?? ''),
    );
    assert.deepEqual(await readdir(root), []);
  });

  it('runs workspaces in plain directories only when told to', async () => {
    const loop = new LoopVolumes({ dir: root, sizeBytes: 64 * MiB, mkfsPath: null, uid: 1000 });
    const volumes = await selectWorkspaceVolumes({
      unsafeNoDiskQuota: true,
      dir: root,
      sizeBytes: 64 * MiB,
      loop,
    });
    assert.equal(volumes.quota, false);
    assert.ok(volumes instanceof PlainDirectories);
    const dir = join(root, 'plain');
    await volumes.create('w', dir);
    assert.deepEqual(await readdir(dir), []);
    assert.equal(await volumes.mount('w', dir), false);
    await volumes.remove('w', dir);
    assert.equal(existsSync(dir), false);
  });
});
