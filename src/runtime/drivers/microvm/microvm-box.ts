// A handle on one box: its QEMU running detached (or its saved image while hibernated), found
// again by id after a server restart. The handle owns the rules: stop once, hibernate only a
// running box, resume only a hibernated one.
import { readFile, rm, stat } from 'node:fs/promises';
import { NixSpaceError } from '../../../errors.js';
import type { SandboxCgroup } from '../../cgroups/sandbox-cgroup.js';
import { killQuietly } from '../../host/host-processes.js';
import { runRestored, saveState } from './box-hibernation.js';
import {
  type BoxPaths,
  type BoxRecord,
  isAlive,
  type QemuProcess,
  readRecord,
  writeRecord,
} from './box-record.js';
import type { MicrovmSpec } from './microvm-spec.js';
import { QmpClient } from './qmp-client.js';
import { waitFor } from './wait-for.js';

export type BoxState = 'running' | 'hibernated' | 'exited' | 'stopped';

export interface HibernateReport {
  saveMs: number;
  imageBytes: number;
}

export interface ResumeReport {
  restoreMs: number;
}

/** Starts a QEMU for the box (booting, or restoring with `incoming`); see microvm-host.ts. */
export type Launcher = (
  spec: MicrovmSpec,
  options: { incoming: boolean; onSpawned?: (process: QemuProcess) => Promise<void> },
) => Promise<{ process: QemuProcess; qmp: QmpClient }>;

export class MicrovmBox {
  readonly id: string;
  readonly spec: MicrovmSpec;
  readonly paths: BoxPaths;
  #record: BoxRecord | undefined;
  readonly #cgroup: SandboxCgroup | undefined;
  readonly #launch: Launcher;
  #stopping: Promise<void> | undefined;

  constructor(init: {
    record: BoxRecord;
    paths: BoxPaths;
    cgroup: SandboxCgroup | undefined;
    launch: Launcher;
  }) {
    this.spec = init.record.spec;
    this.id = this.spec.id;
    this.paths = init.paths;
    this.#record = init.record;
    this.#cgroup = init.cgroup;
    this.#launch = init.launch;
  }

  /** Host pid of QEMU while the box runs. */
  get pid(): number | undefined {
    return this.#record?.state === 'running' ? this.#record.process.pid : undefined;
  }

  /** `exited` when QEMU ended on its own (the guest's init exited, or QEMU died). */
  async state(): Promise<BoxState> {
    const record = this.#record;
    if (record === undefined) return 'stopped';
    if (record.state === 'hibernated') return 'hibernated';
    return (await isAlive(record.process)) ? 'running' : 'exited';
  }

  /** Resolves once QEMU has ended (it is not this process's child, so it is polled). */
  async waitForExit(timeoutMs = 60_000): Promise<void> {
    await waitFor(async () => (await this.state()) !== 'running', {
      timeoutMs,
      what: `box ${this.id} to exit`,
      intervalMs: 50,
    });
  }

  /** What the guest printed on its serial console (kernel and init messages): the box's output. */
  async consoleText(): Promise<string> {
    return readFile(this.paths.console, 'utf8').catch(() => '');
  }

  /** Saves the VM into its image and ends QEMU; `resume()` brings it back as it was. */
  async hibernate(): Promise<HibernateReport> {
    const record = this.#runningRecord('hibernate');
    const qmp = await QmpClient.connect(this.paths.qmp);
    let saveMs: number;
    let imageBytes: number;
    try {
      const started = performance.now();
      await saveState(qmp, this.id);
      saveMs = performance.now() - started;
      imageBytes = (await stat(this.paths.hibernation)).size;
      // The record says hibernated before QEMU goes, so a crash in between leaves the image found.
      this.#record = { state: 'hibernated', spec: this.spec, imageBytes };
      await writeRecord(this.paths, this.#record);
      await qmp.execute('quit').catch(() => undefined);
    } finally {
      qmp.close();
    }
    await this.#ensureGone(record.process);
    await this.#cgroup?.killAll();
    await this.#cgroup?.remove();
    return { saveMs, imageBytes };
  }

  async resume(): Promise<ResumeReport> {
    if (this.#record?.state !== 'hibernated') {
      throw new NixSpaceError('CONFLICT', `box ${this.id} is not hibernated`);
    }
    const started = performance.now();
    const { process, qmp } = await this.#launch(this.spec, { incoming: true });
    try {
      await runRestored(qmp, this.id);
    } catch (error) {
      killQuietly(process.pid);
      throw error;
    } finally {
      qmp.close();
    }
    const restoreMs = performance.now() - started;
    this.#record = { state: 'running', spec: this.spec, process };
    await writeRecord(this.paths, this.#record);
    // The image is the past now: resuming it a second time would fork the workspace's history.
    await rm(this.paths.hibernation, { force: true });
    return { restoreMs };
  }

  /** Ends QEMU (QMP quit, then SIGKILL) and removes the box's cgroups, state and image. */
  stop(): Promise<void> {
    this.#stopping ??= this.#stop();
    return this.#stopping;
  }

  async #stop(): Promise<void> {
    const record = this.#record ?? (await readRecord(this.paths));
    if (record?.state === 'running' && (await isAlive(record.process))) {
      // The monitor takes one client at a time; if another holds it, SIGTERM is QEMU's quit too.
      const qmp = await QmpClient.connect(this.paths.qmp, 2_000).catch(() => undefined);
      if (qmp === undefined) killQuietly(record.process.pid, 'SIGTERM');
      await qmp?.execute('quit').catch(() => undefined);
      qmp?.close();
      await this.#ensureGone(record.process);
    }
    await this.#cgroup?.killAll();
    await this.#cgroup?.remove();
    await rm(this.paths.boxDir, { recursive: true, force: true });
    this.#record = undefined;
  }

  #runningRecord(what: string): Extract<BoxRecord, { state: 'running' }> {
    if (this.#stopping !== undefined || this.#record?.state !== 'running') {
      throw new NixSpaceError('CONFLICT', `box ${this.id} is not running, cannot ${what}`);
    }
    return this.#record;
  }

  /** Waits a few seconds for QEMU to end by itself, then SIGKILLs it. */
  async #ensureGone(process: QemuProcess): Promise<void> {
    const gone = async () => !(await isAlive(process));
    try {
      await waitFor(gone, { timeoutMs: 5_000, what: `QEMU of box ${this.id} to quit`, intervalMs: 20 });
    } catch {
      killQuietly(process.pid);
      await waitFor(gone, { timeoutMs: 10_000, what: `QEMU of box ${this.id} to die`, intervalMs: 20 });
    }
  }
}
