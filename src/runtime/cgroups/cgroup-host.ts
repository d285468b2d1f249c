// The cgroup side of a host: what it can limit, and the groups of each sandbox. Detection runs
// once per server process, on first use.
import type { LimitKind } from '../sandbox.js';
import { detectHierarchies, type Hierarchy } from './cgroup-hierarchies.js';
import { SandboxCgroup } from './sandbox-cgroup.js';

export class CgroupHost {
  readonly #hierarchies: readonly Hierarchy[];

  constructor(hierarchies: readonly Hierarchy[]) {
    this.#hierarchies = hierarchies;
  }

  /** True when sandbox processes can be put in (and found through) a cgroup at all. */
  get available(): boolean {
    return this.#hierarchies.length > 0;
  }

  /** The limits this host really enforces. */
  get limits(): readonly LimitKind[] {
    const kinds: LimitKind[] = ['memory', 'cpu', 'pids'];
    return kinds.filter((kind) => this.#hierarchies.some((h) => h.controllers.includes(kind)));
  }

  /** The groups of sandbox `id` (created by `SandboxCgroup.create`, or left by a crash). */
  group(id: string): SandboxCgroup {
    return new SandboxCgroup(id, this.#hierarchies);
  }
}

let detected: CgroupHost | undefined;

export function detectCgroupHost(): CgroupHost {
  detected ??= new CgroupHost(detectHierarchies());
  return detected;
}
