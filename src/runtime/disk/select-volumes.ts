// Picks how workspace directories are made at startup. A disk quota per workspace is the default;
// running without one needs the explicit --unsafe-no-disk-quota, and the refusal names what the
// host lacks.
import { LoopVolumes } from './loop-volumes.js';
import { PlainDirectories } from './plain-directories.js';
import type { WorkspaceVolumes } from './workspace-volumes.js';

export interface SelectVolumesOptions {
  unsafeNoDiskQuota: boolean;
  /** Where volume images live (the data directory's `volumes`). */
  dir: string;
  sizeBytes: number;
  /** The quota-enforcing volumes to probe; tests pass ones configured to fail. */
  loop?: LoopVolumes;
}

/** Throws the probe's NixSpaceError('SANDBOX_UNAVAILABLE') unless unsafeNoDiskQuota. */
export async function selectWorkspaceVolumes(options: SelectVolumesOptions): Promise<WorkspaceVolumes> {
  if (options.unsafeNoDiskQuota) return new PlainDirectories();
  const loop = options.loop ?? new LoopVolumes({ dir: options.dir, sizeBytes: options.sizeBytes });
  await loop.probe();
  return loop;
}
