// The entry point of microVM boxes on one host: boots a box for a spec, and finds a box again by
// id (after a server restart) from the records under a root-only state directory.
import { existsSync } from 'node:fs';
import { chown, mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { NixSpaceError } from '../../../errors.js';
import { detectCgroupHost } from '../../cgroups/cgroup-host.js';
import type { SandboxCgroup } from '../../cgroups/sandbox-cgroup.js';
import { assertSandboxId } from '../../sandbox-id.js';
import { writeBoxInitrd } from './box-boot-config.js';
import { type BoxPaths, boxPaths, type QemuProcess, readRecord, writeRecord } from './box-record.js';
import { boxShares, readOnlyFiles } from './box-shares.js';
import { cachedInitramfs } from './guest-initramfs.js';
import {
  findGuestKernel,
  findMicrovmTools,
  type GuestKernel,
  hostTscKhz,
  type MicrovmTools,
} from './guest-kernel.js';
import { assertBoxUserCanReach } from './host-path-access.js';
import type { Launcher } from './microvm-box.js';
import { MicrovmBox } from './microvm-box.js';
import { assertMicrovmSpec, defaultMemoryBytes, type MicrovmSpec } from './microvm-spec.js';
import { qemuArgs, tcgCacheMiB } from './qemu-args.js';
import { launchQemu } from './qemu-launch.js';

export interface MicrovmHostOptions {
  /** Root-only directory holding one subdirectory per box (records, QEMU's files). */
  stateRoot: string;
  /** Where the shared initramfs is cached; default `<stateRoot>/.initramfs`. */
  cacheDir?: string;
  /** How long a box's QEMU may take to bring its monitor up. */
  startTimeoutMs?: number;
}

/** Host memory a box's QEMU may use beyond the guest's RAM (TCG's code cache, devices, 9p). */
const qemuOverheadBytes = (tcgCacheMiB + 256) * 1024 * 1024;

export class MicrovmHost {
  readonly #options: MicrovmHostOptions;
  #host: { tools: MicrovmTools; kernel: GuestKernel } | undefined;
  readonly #tscKhz = hostTscKhz();

  constructor(options: MicrovmHostOptions) {
    this.#options = options;
  }

  /** Throws NixSpaceError('SANDBOX_UNAVAILABLE') naming the package that is missing. */
  async probe(): Promise<void> {
    this.#detect();
  }

  /**
   * Boots a box and resolves once its QEMU runs (monitor up); the guest then reaches the agent's
   * init within seconds and the agent connects to spec.agentSocket. Refuses an id that has a
   * running or hibernated box.
   */
  async boot(spec: MicrovmSpec, options: { signal?: AbortSignal } = {}): Promise<MicrovmBox> {
    assertMicrovmSpec(spec);
    const { tools, kernel } = this.#detect();
    assertBoxUserCanReach(spec);
    const paths = boxPaths(this.#options.stateRoot, spec.id);
    const existing = await this.find(spec.id);
    if (existing !== undefined) {
      if ((await existing.state()) !== 'exited') {
        throw new NixSpaceError('CONFLICT', `box ${spec.id} already exists (${await existing.state()})`);
      }
      await existing.stop();
    }
    const cgroup = this.#cgroup(spec.id);
    if (existsSync(paths.boxDir)) {
      // Left by a server that died before the record was written: its QEMU, if any, is in the cgroup.
      await cgroup?.killAll();
      await cgroup?.remove();
      await rm(paths.boxDir, { recursive: true, force: true });
    }
    await mkdir(this.#options.stateRoot, { recursive: true, mode: 0o700 });
    await mkdir(paths.boxDir, { mode: 0o700 });
    await mkdir(paths.vmDir, { mode: 0o700 });
    await chown(paths.vmDir, spec.user.uid, spec.user.gid);
    const launch = this.#launcher(paths, cgroup, options.signal);
    try {
      const base = await cachedInitramfs(
        this.#options.cacheDir ?? join(this.#options.stateRoot, '.initramfs'),
        kernel,
        tools,
      );
      await writeBoxInitrd(paths.initrd, base, spec, boxShares(spec), readOnlyFiles(spec));
      // Recorded as soon as its pid is known: a server dying during boot leaves a box find() sees.
      const onSpawned = (process: QemuProcess) => writeRecord(paths, { state: 'running', spec, process });
      const { process, qmp } = await launch(spec, { incoming: false, onSpawned });
      // The monitor takes one client at a time: each operation connects anew.
      qmp.close();
      const record = { state: 'running' as const, spec, process };
      await writeRecord(paths, record);
      return new MicrovmBox({ record, paths, cgroup, launch });
    } catch (error) {
      await cgroup?.killAll().catch(() => undefined);
      await cgroup?.remove().catch(() => undefined);
      await rm(paths.boxDir, { recursive: true, force: true });
      throw error;
    }
  }

  /** The box with this id, running, hibernated or exited on its own; undefined if there is none. */
  async find(id: string): Promise<MicrovmBox | undefined> {
    assertSandboxId(id);
    const paths = boxPaths(this.#options.stateRoot, id);
    const record = await readRecord(paths);
    if (record === undefined || record.spec.id !== id) return undefined;
    const cgroup = this.#cgroup(id);
    return new MicrovmBox({ record, paths, cgroup, launch: this.#launcher(paths, cgroup) });
  }

  /**
   * Ends the box of this id whatever is left of it: a recorded box is stopped; a box directory
   * without a record (a server that died during boot) goes with every process of its cgroup.
   */
  async destroy(id: string): Promise<void> {
    const box = await this.find(id);
    if (box !== undefined) {
      await box.stop();
      return;
    }
    const cgroup = this.#cgroup(id);
    await cgroup?.killAll();
    await cgroup?.remove();
    await rm(boxPaths(this.#options.stateRoot, id).boxDir, { recursive: true, force: true });
  }

  #detect(): { tools: MicrovmTools; kernel: GuestKernel } {
    this.#host ??= { tools: findMicrovmTools(), kernel: findGuestKernel() };
    return this.#host;
  }

  #cgroup(id: string): SandboxCgroup | undefined {
    const host = detectCgroupHost();
    return host.available ? host.group(`microvm-${id}`) : undefined;
  }

  #launcher(paths: BoxPaths, cgroup: SandboxCgroup | undefined, signal?: AbortSignal): Launcher {
    return async (spec, { incoming, onSpawned }) => {
      const { tools, kernel } = this.#detect();
      const memoryBytes = (spec.limits.memoryBytes ?? defaultMemoryBytes) + qemuOverheadBytes;
      await cgroup?.create({
        memoryBytes,
        ...(spec.limits.cpus === undefined ? {} : { cpus: spec.limits.cpus }),
      });
      const shares = boxShares(spec);
      const argv = qemuArgs({ spec, qemu: tools.qemu, kernel, shares, tscKhz: this.#tscKhz, incoming });
      const launched = await launchQemu({
        spec,
        paths,
        tools,
        argv,
        cgroup,
        ...(onSpawned === undefined ? {} : { onSpawned }),
        ...(signal === undefined ? {} : { signal }),
        ...(this.#options.startTimeoutMs === undefined ? {} : { timeoutMs: this.#options.startTimeoutMs }),
      });
      return launched;
    };
  }
}
