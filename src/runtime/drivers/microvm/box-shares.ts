// The host directories a box sees, each a 9p share mounted in the guest at its host path: /usr
// read-only (the guest runs the host's programs), the workspace and runtime directories writable,
// and the spec's read-only directories. A read-only path that is a file (the agent's package.json)
// cannot be a 9p share: it travels in the box's initrd instead (box-boot-config.ts). Nothing else
// of the host exists in the guest.
import { statSync } from 'node:fs';
import type { MicrovmSpec } from './microvm-spec.js';

export interface BoxShare {
  /** The 9p mount tag (short, unique in the box). */
  tag: string;
  hostPath: string;
  writable: boolean;
  /**
   * The guest's 9p cache mode: `loose` (page cache kept, fast, may be stale) only for the host's
   * /usr, which changes only when packages are installed; `mmap` elsewhere, so host edits show.
   */
  cache: 'loose' | 'mmap';
}

export function boxShares(spec: MicrovmSpec): BoxShare[] {
  const shares: BoxShare[] = [
    { tag: 'usr', hostPath: '/usr', writable: false, cache: 'loose' },
    { tag: 'ws', hostPath: spec.workspaceDir, writable: true, cache: 'mmap' },
  ];
  if (spec.runtimeDir !== undefined) {
    shares.push({ tag: 'rt', hostPath: spec.runtimeDir, writable: true, cache: 'mmap' });
  }
  readOnlyDirectories(spec).forEach((hostPath, index) => {
    shares.push({ tag: `ro${index}`, hostPath, writable: false, cache: 'mmap' });
  });
  // Parents before what is mounted inside them (a read-only path under the workspace).
  return shares.sort((a, b) => a.hostPath.length - b.hostPath.length);
}

/** The spec's read-only paths that are files (not directories) on the host: copied, not shared. */
export function readOnlyFiles(spec: MicrovmSpec): string[] {
  return (spec.readOnlyPaths ?? []).filter((path) => isFile(path));
}

function readOnlyDirectories(spec: MicrovmSpec): string[] {
  return (spec.readOnlyPaths ?? []).filter((path) => !isFile(path));
}

function isFile(path: string): boolean {
  try {
    return statSync(path).isFile();
  } catch {
    // QEMU names a path that is not there when it fails to share it.
    return false;
  }
}
