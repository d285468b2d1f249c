// Disk quotas without filesystem quota support: each workspace gets a sparse ext4 image in the
// data directory (`<volumes>/<id>.img`), loop-mounted at its directory. A write past the image's
// size fails inside with ENOSPC, and on the host the image holds only what was written. Needs
// root, loop devices and e2fsprogs; probe() says which is missing.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, open, readdir, realpath, rm, rmdir, statfs, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { NixSpaceError } from '../../errors.js';
import { findExecutable } from '../host/find-executable.js';
import { assertSandboxId } from '../sandbox-id.js';
import { loopBackingFile, mountsAt } from './mount-table.js';
import type { VolumeOwner, VolumeUsage, WorkspaceVolumes } from './workspace-volumes.js';

const MiB = 1024 * 1024;

/** ext4 needs room for its journal and metadata; smaller volumes are refused. */
export const MIN_VOLUME_BYTES = 16 * MiB;

const unsafeHint = 'or start NixSpace with --unsafe-no-disk-quota (workspaces then share the host disk)';

export interface LoopVolumesOptions {
  /** Where the images live (the data directory's `volumes`); sandboxes never see it. */
  dir: string;
  /** Size of a new volume. */
  sizeBytes: number;
  /** Defaults to `mkfs.ext4` on PATH (or the system directories); null behaves as not installed. */
  mkfsPath?: string | null;
  /** The uid the server runs as (tests pretend another). */
  uid?: number;
}

export class LoopVolumes implements WorkspaceVolumes {
  readonly quota = true;
  readonly sizeBytes: number;
  readonly #dir: string;
  readonly #mkfs: string | undefined;
  readonly #mount = findExecutable('mount');
  readonly #umount = findExecutable('umount');
  readonly #uid: number | undefined;
  /** Mount point → workspace id, for every volume mounted while this server runs. */
  readonly #mounted = new Map<string, string>();

  constructor(options: LoopVolumesOptions) {
    this.#dir = options.dir;
    this.sizeBytes = options.sizeBytes;
    this.#mkfs =
      options.mkfsPath === undefined ? findExecutable('mkfs.ext4') : (options.mkfsPath ?? undefined);
    this.#uid = options.uid ?? process.getuid?.();
  }

  /** Throws NixSpaceError('SANDBOX_UNAVAILABLE') naming what this host lacks, after a real try. */
  async probe(): Promise<void> {
    const missing: string[] = [];
    if (this.#uid !== 0) missing.push(`root (NixSpace runs as uid ${this.#uid ?? 'unknown'})`);
    if (!this.#mkfs) missing.push("mkfs.ext4 (Debian package 'e2fsprogs')");
    if (!this.#mount || !this.#umount) missing.push("mount and umount (Debian package 'mount')");
    if (!existsSync('/dev/loop-control')) missing.push('loop devices (/dev/loop-control: modprobe loop)');
    if (missing.length > 0) {
      throw new NixSpaceError(
        'SANDBOX_UNAVAILABLE',
        `NixSpace cannot give each workspace a disk quota here: it needs ${missing.join(', ')}. ` +
          `Provide what is missing, ${unsafeHint}`,
      );
    }
    await this.#removeStaleProbes();
    const id = `probe-${process.pid}-${Date.now()}`;
    const dir = join(this.#dir, `${id}.mnt`);
    try {
      await this.create(id, dir, { sizeBytes: MIN_VOLUME_BYTES });
      await writeFile(join(dir, 'probe'), 'ok\n');
    } catch (error) {
      throw new NixSpaceError(
        'SANDBOX_UNAVAILABLE',
        `This host cannot make and mount a workspace volume (a loop-mounted ext4 image): ${unsafeHint}`,
        { detail: describe(error), cause: error },
      );
    } finally {
      await this.remove(id, dir).catch(() => undefined);
    }
  }

  imagePath(id: string): string {
    assertSandboxId(id);
    return join(this.#dir, `${id}.img`);
  }

  async create(
    id: string,
    dir: string,
    options: { sizeBytes?: number; owner?: VolumeOwner } = {},
  ): Promise<void> {
    const sizeBytes = options.sizeBytes ?? this.sizeBytes;
    if (!Number.isSafeInteger(sizeBytes) || sizeBytes < MIN_VOLUME_BYTES) {
      throw new NixSpaceError(
        'BAD_REQUEST',
        `A workspace volume must be at least 16 MiB (asked for ${sizeBytes} bytes)`,
      );
    }
    const image = this.imagePath(id);
    const mkfs = this.#mkfs;
    if (!mkfs) throw new NixSpaceError('SANDBOX_UNAVAILABLE', `mkfs.ext4 is not installed: ${unsafeHint}`);
    if (await hasEntries(dir)) {
      throw new NixSpaceError('CONFLICT', `Cannot make a volume at ${dir}: the directory is not empty`);
    }
    await mkdir(this.#dir, { recursive: true, mode: 0o700 });
    // 'wx': an image that exists belongs to another workspace (or a leftover), never overwritten.
    const handle = await open(image, 'wx', 0o600).catch((error: unknown) => {
      throw new NixSpaceError('CONFLICT', `The volume of workspace ${id} exists already`, { cause: error });
    });
    try {
      try {
        await handle.truncate(sizeBytes);
      } finally {
        await handle.close();
      }
      const owner = options.owner ?? { uid: process.getuid?.() ?? 0, gid: process.getgid?.() ?? 0 };
      // No reserved blocks (the workspace may fill its own disk); inode tables and journal are
      // zeroed lazily, so making a 10 GiB volume takes milliseconds and the image stays sparse.
      const extended = `lazy_itable_init=1,lazy_journal_init=1,root_owner=${owner.uid}:${owner.gid}`;
      await run(mkfs, ['-q', '-F', '-m', '0', '-E', extended, '--', image], 'making the filesystem');
      await this.#mountImage(id, image, dir);
      // Nobody has seen the new filesystem yet: its only entry is mke2fs's lost+found.
      await rmdir(join(dir, 'lost+found'));
    } catch (error) {
      await this.unmount(dir).catch(() => undefined);
      await rm(image, { force: true });
      await rm(dir, { recursive: true, force: true }).catch(() => undefined);
      if (error instanceof NixSpaceError) throw error;
      throw new NixSpaceError('SANDBOX_FAILED', `Could not make the workspace's volume`, {
        detail: String(error),
        cause: error,
      });
    }
  }

  async mount(id: string, dir: string): Promise<boolean> {
    const image = this.imagePath(id);
    if (!existsSync(image)) return false;
    const current = (await mountsAt(await realPath(dir))).at(-1);
    if (current) {
      // A server start after a crash: the kernel kept the mount.
      if ((await loopBackingFile(current.source)) === (await realpath(image))) {
        this.#mounted.set(dir, id);
        return true;
      }
      throw new NixSpaceError('SANDBOX_FAILED', `${dir} has ${current.source} mounted on it, not its volume`);
    }
    await this.#mountImage(id, image, dir);
    return true;
  }

  async unmount(dir: string): Promise<void> {
    const umount = this.#umount;
    const target = await realPath(dir);
    // Volumes can be stacked (a mount repeated by hand): unmount until none is left.
    for (let attempt = 0; (await mountsAt(target)).length > 0; attempt++) {
      if (!umount) throw new NixSpaceError('SANDBOX_UNAVAILABLE', 'umount is not installed');
      if (attempt >= 8) throw new NixSpaceError('SANDBOX_FAILED', `${dir} stays mounted`);
      // Busy (a host process still has a file open): detach it now; the kernel lets go of the
      // loop device once the last user is gone.
      await run(umount, ['--', target], 'unmounting').catch(() =>
        run(umount, ['--lazy', '--', target], 'unmounting (lazily)'),
      );
    }
    this.#mounted.delete(dir);
  }

  async remove(id: string, dir: string): Promise<void> {
    await this.unmount(dir);
    await rm(this.imagePath(id), { force: true });
    // Now the empty mount point (or, for a workspace made without quotas, its plain directory).
    await rm(dir, { recursive: true, force: true });
  }

  usage(dir: string): Promise<VolumeUsage> {
    return usageOf(dir);
  }

  async unmountAll(keep: ReadonlySet<string> = new Set()): Promise<void> {
    const dirs = [...this.#mounted.keys()].filter((dir) => !keep.has(dir));
    const results = await Promise.allSettled(dirs.map((dir) => this.unmount(dir)));
    const failed = results.find((result) => result.status === 'rejected');
    if (failed) throw failed.reason;
  }

  /** What a probe cut off by a crash left: its mount and image. */
  async #removeStaleProbes(): Promise<void> {
    for (const name of await readdir(this.#dir).catch(() => [] as string[])) {
      if (!name.startsWith('probe-')) continue;
      const path = join(this.#dir, name);
      if (name.endsWith('.mnt')) await this.unmount(path).catch(() => undefined);
      await rm(path, { recursive: true, force: true }).catch(() => undefined);
    }
  }

  async #mountImage(id: string, image: string, dir: string): Promise<void> {
    const mount = this.#mount;
    if (!mount) throw new NixSpaceError('SANDBOX_UNAVAILABLE', `mount is not installed: ${unsafeHint}`);
    await mkdir(dir, { recursive: true });
    // nodev, nosuid: a device node or setuid binary written inside means nothing on the host.
    await run(mount, ['-t', 'ext4', '-o', 'loop,nodev,nosuid', '--', image, dir], 'mounting');
    this.#mounted.set(dir, id);
  }
}

/** Capacity and use of the filesystem holding dir, in bytes. */
export async function usageOf(dir: string): Promise<VolumeUsage> {
  const stats = await statfs(dir, { bigint: false });
  return {
    sizeBytes: stats.blocks * stats.bsize,
    usedBytes: (stats.blocks - stats.bfree) * stats.bsize,
    freeBytes: stats.bavail * stats.bsize,
  };
}

function describe(error: unknown): string {
  if (!(error instanceof NixSpaceError)) return String(error);
  return error.detail === undefined ? error.message : `${error.message}: ${error.detail}`;
}

async function hasEntries(dir: string): Promise<boolean> {
  return (await readdir(dir).catch(() => [])).length > 0;
}

async function realPath(path: string): Promise<string> {
  return realpath(path).catch(() => path);
}

async function run(file: string, args: string[], what: string): Promise<void> {
  try {
    await promisify(execFile)(file, args, { timeout: 60_000, env: { PATH: process.env.PATH ?? '' } });
  } catch (error) {
    const stderr = (error as { stderr?: string }).stderr?.trim();
    throw new NixSpaceError('SANDBOX_FAILED', `Workspace volume: ${what} failed`, {
      detail: stderr || String(error),
      cause: error,
    });
  }
}
