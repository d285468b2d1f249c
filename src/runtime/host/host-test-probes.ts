// What the host sees of a sandbox under test, for the conformance suites: the host processes of a
// program (by an argv unique to the test) and the cgroup directories left for a sandbox id.
import { randomBytes } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';

/** A sleep whose argv is unique to this test run, so the host can find exactly its processes. */
export function uniqueSleep(): string[] {
  return ['sleep', `1000.${randomBytes(4).readUInt32BE()}`];
}

/** Host pids whose command line is exactly argv (found through the host's /proc). */
export async function hostPidsRunning(argv: readonly string[]): Promise<number[]> {
  const wanted = `${argv.join('\0')}\0`;
  const found: number[] = [];
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const cmdline = await readFile(`/proc/${entry}/cmdline`, 'utf8').catch(() => '');
    if (cmdline === wanted) found.push(Number(entry));
  }
  return found;
}

/** Directories named `<id>` under a `nixspace` cgroup parent, in any mounted hierarchy. */
export async function cgroupDirsOf(id: string): Promise<string[]> {
  const found: string[] = [];
  const walk = async (dir: string, depth: number): Promise<void> => {
    if (depth > 8) return;
    const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
    for (const entry of entries) {
      if (!entry.isDirectory()) continue;
      const path = join(dir, entry.name);
      if (entry.name === id && dir.endsWith('/nixspace')) found.push(path);
      else await walk(path, depth + 1);
    }
  };
  await walk('/sys/fs/cgroup', 0);
  return found;
}
