// Sums the bytes of the files under a directory while git may be writing into it: files that
// vanish mid-walk (temporary packs renamed into place) are skipped, not errors.

import type { Dirent } from 'node:fs';
import { lstat, readdir } from 'node:fs/promises';
import { join } from 'node:path';

export async function dirSize(dir: string): Promise<number> {
  let entries: Dirent[];
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch {
    return 0;
  }
  let total = 0;
  for (const entry of entries) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) {
      total += await dirSize(path);
    } else if (entry.isFile()) {
      try {
        total += (await lstat(path)).size;
      } catch {
        // Renamed or removed since readdir.
      }
    }
  }
  return total;
}
