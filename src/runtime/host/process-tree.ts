// A process and everything it started, found through /proc: its descendants, and every member of
// their process groups and sessions (so a child reparented after its parent died is still found).
// Used to stop one job gracefully without touching the rest of its sandbox.

import { readFile } from 'node:fs/promises';
import type { CommandGroup } from '../sandbox.js';
import { delay, listPids } from './host-processes.js';

interface ProcStat {
  pid: number;
  ppid: number;
  pgrp: number;
  sid: number;
  zombie: boolean;
}

async function readStats(): Promise<Map<number, ProcStat>> {
  const stats = new Map<number, ProcStat>();
  await Promise.all(
    (await listPids()).map(async (pid) => {
      try {
        const text = await readFile(`/proc/${pid}/stat`, 'utf8');
        // The command name may hold spaces and parentheses: fields start after the last ')'.
        const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
        stats.set(pid, {
          pid,
          ppid: Number(fields[1]),
          pgrp: Number(fields[2]),
          sid: Number(fields[3]),
          zombie: fields[0] === 'Z',
        });
      } catch {
        // gone while listing
      }
    }),
  );
  return stats;
}

function childrenByParent(stats: ReadonlyMap<number, ProcStat>): Map<number, number[]> {
  const children = new Map<number, number[]>();
  for (const stat of stats.values()) {
    const list = children.get(stat.ppid) ?? [];
    list.push(stat.pid);
    children.set(stat.ppid, list);
  }
  return children;
}

/** Tracks one tree across snapshots: groups and sessions seen once stay part of the tree. */
export class ProcessTree {
  private readonly groups = new Set<number>();
  private readonly sessions = new Set<number>();

  constructor(readonly rootPid: number) {
    this.groups.add(rootPid);
    this.sessions.add(rootPid);
  }

  /** Live pids of the tree (root included when alive), refreshing the groups and sessions it spans. */
  async members(): Promise<number[]> {
    const stats = await readStats();
    const children = childrenByParent(stats);
    const found = new Set<number>();
    const walk = (pid: number) => {
      if (found.has(pid)) return;
      found.add(pid);
      for (const child of children.get(pid) ?? []) walk(child);
    };
    if (stats.has(this.rootPid)) walk(this.rootPid);
    for (const pid of found) {
      const stat = stats.get(pid);
      if (stat) {
        this.groups.add(stat.pgrp);
        this.sessions.add(stat.sid);
      }
    }
    for (const stat of stats.values()) {
      if (this.groups.has(stat.pgrp) || this.sessions.has(stat.sid)) walk(stat.pid);
    }
    return [...found].filter((pid) => stats.get(pid) && !stats.get(pid)!.zombie && pid !== process.pid);
  }
}

/** A process tree together with the cgroup its command runs in (when the sandbox keeps one). */
export function commandProcesses(tree: ProcessTree, group: CommandGroup | undefined): ProcessSet {
  if (group === undefined) return tree;
  return {
    async members() {
      const [inTree, inGroup] = await Promise.all([tree.members(), group.pids()]);
      return [...new Set([...inTree, ...inGroup])].filter((pid) => pid !== process.pid);
    },
    killAll: () => group.kill(),
  };
}

/** Live children of `pid`. */
export async function childrenOf(pid: number): Promise<number[]> {
  return [...(await readStats()).values()].filter((s) => s.ppid === pid && !s.zombie).map((s) => s.pid);
}

function signal(pids: readonly number[], sig: NodeJS.Signals): number[] {
  const sent: number[] = [];
  for (const pid of pids) {
    try {
      process.kill(pid, sig);
      sent.push(pid);
    } catch {
      // already gone
    }
  }
  return sent;
}

/** What a cancel signals: a process tree, or everything in a command's cgroup (and its tree). */
export interface ProcessSet {
  members(): Promise<number[]>;
  /** Kills every member at once where that can be done atomically (a cgroup); else absent. */
  killAll?(): Promise<void>;
}

/**
 * SIGTERM to every process of the set except `spare` (a wrapper that must outlive its program to
 * report how it ended), then, if `exited` has not settled after the grace period, SIGKILL to all
 * that is left. Returns what was done, in words for the job's log.
 */
export async function terminateTree(
  tree: ProcessSet,
  options: { graceMs: number; exited: Promise<unknown>; spare?: readonly number[] },
): Promise<string[]> {
  const notes: string[] = [];
  const spare = new Set(options.spare ?? []);
  const members = await tree.members();
  const targets = members.filter((pid) => !spare.has(pid));
  const termed = signal(targets.length > 0 ? targets : members, 'SIGTERM');
  notes.push(
    termed.length > 0
      ? `SIGTERM sent to ${plural(termed.length, 'process', 'processes')} (pid ${termed.join(', ')})`
      : 'no process was left to signal',
  );
  const exited = await Promise.race([
    options.exited.then(() => true),
    delay(options.graceMs).then(() => false),
  ]);
  // A program gone while a child that ignores SIGTERM lives on still counts as not exited.
  const left = await tree.members();
  if (exited && left.length === 0) {
    notes.push(`all exited within the ${seconds(options.graceMs)} grace period`);
    return notes;
  }
  const killed = signal(left, 'SIGKILL');
  notes.push(
    killed.length > 0
      ? `SIGKILL sent to ${plural(killed.length, 'process', 'processes')} still running after ${seconds(options.graceMs)} (pid ${killed.join(', ')})`
      : 'all exited within the grace period',
  );
  // What forked between the listing and the kills goes too.
  await tree.killAll?.().catch((error: unknown) => notes.push(`could not kill them all: ${String(error)}`));
  for (let i = 0; i < 50 && (await tree.members()).length > 0; i++) {
    signal(await tree.members(), 'SIGKILL');
    await delay(20);
  }
  return notes;
}

function plural(n: number, one: string, many: string): string {
  return `${n} ${n === 1 ? one : many}`;
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(ms % 1000 === 0 ? 0 : 1)} s`;
}
