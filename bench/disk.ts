// Figures for the disk quota: making and mounting a workspace's 10 GiB volume (sparse ext4 image,
// loop mount) and removing it, against the raw `mkdir` / `rm -r` of a plain directory it replaces.

import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LoopVolumes } from '../src/runtime/disk/loop-volumes.js';
import { type BenchResult, percentile, round, withRatio } from './results-file.js';

const RUNS = 15;
const SIZE = 10 * 1024 ** 3;

export async function benchDisk(): Promise<BenchResult[]> {
  const root = await mkdtemp(join(tmpdir(), 'nixspace-bench-disk-'));
  const volumes = new LoopVolumes({ dir: join(root, 'volumes'), sizeBytes: SIZE });
  const make: number[] = [];
  const remove: number[] = [];
  const rawMake: number[] = [];
  const rawRemove: number[] = [];
  try {
    await volumes.probe();
    // Alternate the two ways so neither gets a quieter machine.
    for (let i = 0; i < RUNS; i++) {
      const id = crypto.randomUUID();
      const dir = join(root, 'workspaces', id);
      let started = performance.now();
      await volumes.create(id, dir);
      make.push(performance.now() - started);
      started = performance.now();
      await volumes.remove(id, dir);
      remove.push(performance.now() - started);

      const plain = join(root, 'plain', id);
      started = performance.now();
      await mkdir(plain, { recursive: true });
      rawMake.push(performance.now() - started);
      started = performance.now();
      await rm(plain, { recursive: true, force: true });
      rawRemove.push(performance.now() - started);
    }
  } finally {
    await volumes.unmountAll().catch(() => undefined);
    await rm(root, { recursive: true, force: true });
  }
  const p50 = (values: number[]) => round(percentile(values, 50), 2);
  return [
    withRatio({
      name: 'disk: workspace volume create + mount (10 GiB) p50',
      value: p50(make),
      unit: 'ms',
      baseline: p50(rawMake),
      note: `baseline: raw mkdir; p95 ${round(percentile(make, 95), 1)} ms; ${RUNS} runs`,
    }),
    withRatio({
      name: 'disk: workspace volume unmount + remove p50',
      value: p50(remove),
      unit: 'ms',
      baseline: p50(rawRemove),
      note: 'baseline: raw rm -r of an empty directory',
    }),
  ];
}
