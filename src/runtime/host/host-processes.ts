// What the host's /proc says about processes: used to kill and to verify that a sandbox is gone
// when no cgroup can list its members.
import { readdir, readFile, readlink } from 'node:fs/promises';

export async function listPids(): Promise<number[]> {
  const entries = await readdir('/proc');
  return entries.filter((name) => /^\d+$/.test(name)).map(Number);
}

/** The inode of a process's pid namespace, or undefined once the process is gone. */
export async function pidNamespaceOf(pid: number): Promise<number | undefined> {
  try {
    const link = await readlink(`/proc/${pid}/ns/pid`);
    const match = /^pid:\[(\d+)\]$/.exec(link);
    return match?.[1] === undefined ? undefined : Number(match[1]);
  } catch {
    return undefined;
  }
}

/** True for a zombie: dead, holding nothing but its pid until its parent (maybe host init) reaps it. */
async function isZombie(pid: number): Promise<boolean> {
  try {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z');
  } catch {
    return true;
  }
}

/** Host pids of every live (non-zombie) process in the given pid namespace. */
export async function pidsInNamespace(namespace: number): Promise<number[]> {
  const pids = await listPids();
  const inNamespace = await Promise.all(
    pids.map(async (pid) => (await pidNamespaceOf(pid)) === namespace && !(await isZombie(pid))),
  );
  return pids.filter((_, index) => inNamespace[index]);
}

/** Host pids whose environment holds `name=value` (processes can clear it; a best effort). */
export async function pidsWithEnv(name: string, value: string): Promise<number[]> {
  const needle = `${name}=${value}`;
  const pids = await listPids();
  const matches = await Promise.all(
    pids.map(async (pid) => {
      try {
        const environ = await readFile(`/proc/${pid}/environ`, 'latin1');
        return environ.split('\0').includes(needle);
      } catch {
        return false;
      }
    }),
  );
  return pids.filter((pid, index) => matches[index] && pid !== process.pid);
}

export function killQuietly(pid: number, signal: NodeJS.Signals = 'SIGKILL'): void {
  try {
    process.kill(pid, signal);
  } catch {
    // already gone (ESRCH) is the outcome we want
  }
}

export const delay = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Kills whatever `list` returns until it returns nothing; throws after `timeoutMs`. The loop is what
 * makes it safe against processes that fork while being killed.
 */
export async function killUntilGone(
  list: () => Promise<number[]>,
  options: { timeoutMs?: number; what: string },
): Promise<void> {
  const deadline = Date.now() + (options.timeoutMs ?? 10_000);
  for (;;) {
    const pids = await list();
    if (pids.length === 0) return;
    if (Date.now() > deadline) {
      throw new Error(`${options.what}: processes ${pids.join(', ')} survived SIGKILL`);
    }
    for (const pid of pids) killQuietly(pid);
    await delay(10);
  }
}
