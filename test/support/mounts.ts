// What tests check and clean of the host's mount table: workspace volumes are loop mounts in the
// host's namespace, and a teardown must leave none behind, even after a failed test.

import { spawnSync } from 'node:child_process';
import { readMountTable } from '../../src/runtime/disk/mount-table.js';

/** Every mount point of this process's mount namespace. */
export async function mountPoints(): Promise<string[]> {
  return (await readMountTable()).map((entry) => entry.mountPoint);
}

/** Unmounts everything mounted below dir, innermost first (lazily: a teardown must not hang). */
export async function unmountUnder(dir: string): Promise<void> {
  const below = (await mountPoints()).filter((point) => point.startsWith(`${dir}/`));
  for (const point of below.reverse()) spawnSync('umount', ['--lazy', '--', point]);
}

/** `losetup -a`: the loop devices in use and their backing files. */
export function loopDevices(): string {
  return spawnSync('losetup', ['-a'], { encoding: 'utf8' }).stdout;
}

/**
 * Resolves once no loop device is backed by a file whose path contains text. The kernel lets go
 * of an unmounted volume's loop device a moment after umount returns (in a work queue).
 */
export async function loopDevicesReleased(text: string, timeoutMs = 10_000): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (loopDevices().includes(text)) {
    if (Date.now() > deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return true;
}
