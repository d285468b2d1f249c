// UNSAFE: the `--unsafe-no-disk-quota` volumes. A workspace's directory is a plain one on the
// host disk, which every workspace, the database and the server share: one workspace can fill it.
import { chown, mkdir, rm } from 'node:fs/promises';
import { usageOf } from './loop-volumes.js';
import type { VolumeOwner, VolumeUsage, WorkspaceVolumes } from './workspace-volumes.js';

export class PlainDirectories implements WorkspaceVolumes {
  readonly quota = false;
  readonly sizeBytes = undefined;

  async create(_id: string, dir: string, options: { owner?: VolumeOwner } = {}): Promise<void> {
    await mkdir(dir, { recursive: true });
    if (options.owner) {
      await chown(dir, options.owner.uid, options.owner.gid).catch(async (error: unknown) => {
        await rm(dir, { recursive: true, force: true });
        throw error;
      });
    }
  }

  async mount(_id: string, _dir: string): Promise<boolean> {
    return false;
  }

  async unmount(_dir: string): Promise<void> {}

  async remove(_id: string, dir: string): Promise<void> {
    await rm(dir, { recursive: true, force: true });
  }

  usage(dir: string): Promise<VolumeUsage> {
    return usageOf(dir);
  }

  async unmountAll(): Promise<void> {}
}
