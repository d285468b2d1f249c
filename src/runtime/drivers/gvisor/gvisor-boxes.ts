// The gVisor boxes of one server: each a runsc sandbox whose first process is the workspace agent.
// A box is nobody's child: it keeps running when the server exits, and a restarted server finds
// it again by id in the same state directory. Boxes can be hibernated (checkpoint: memory and
// processes saved to an image, the box gone) and woken again (restore).
import { mkdir, readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { NixSpaceError } from '../../../errors.js';
import { prepareAgentDir } from './agent-socket.js';
import { bundleDir, readBundle, removeBundle, writeBundle } from './box-bundle.js';
import {
  existingDirs,
  expectedBoxCgroups,
  killBoxProcesses,
  removeBoxCgroups,
  runningBoxCgroups,
} from './box-leftovers.js';
import { assertBoxId, assertBoxSpec, type GvisorBoxSpec } from './box-spec.js';
import { boxCgroupPath } from './oci-config.js';
import { Runsc, type RunscPlatform, type RunscState } from './runsc-cli.js';

export interface GvisorBoxesOptions {
  /** A root-only directory of the server's (created if missing): runsc state and box bundles. */
  stateDir: string;
  /** Path of runsc; found on PATH when left out. */
  runsc?: string;
  /** 'ptrace' (default) works everywhere; 'kvm' needs a usable /dev/kvm. */
  platform?: RunscPlatform;
}

export type BoxStatus = RunscState['status'];

export interface CheckpointImage {
  dir: string;
  /** Bytes on disk of the image (the sentry's state and the box's memory). */
  bytes: number;
  /** How long runsc took to write it. */
  ms: number;
}

/** A box runsc knows, as found by `start`, `find` or `restore`. */
export class GvisorBox {
  readonly id: string;
  /** Host pid of the box's sentry (runsc-sandbox) when it was found; 0 once gone. */
  readonly pid: number;
  /** The status when the handle was made; `status()` asks again. */
  readonly state: BoxStatus;
  /** The init's stdout and stderr (and runsc's messages), on the host. */
  readonly logFile: string;
  readonly #boxes: GvisorBoxes;

  constructor(boxes: GvisorBoxes, found: RunscState, logFile: string) {
    this.#boxes = boxes;
    this.id = found.id;
    this.pid = found.pid;
    this.state = found.status;
    this.logFile = logFile;
  }

  async status(): Promise<BoxStatus | undefined> {
    return (await this.#boxes.runsc.state(this.id))?.status;
  }

  /** Kills every process of the box and removes it: runsc state, cgroups, bundle. */
  stop(): Promise<void> {
    return this.#boxes.destroy(this.id);
  }

  /**
   * Hibernates the box into imageDir (created, root-only): afterwards the box is gone from runsc
   * and from the host; its bundle stays for `GvisorBoxes.restore`.
   */
  checkpoint(imageDir: string): Promise<CheckpointImage> {
    return this.#boxes.checkpoint(this.id, imageDir);
  }
}

export class GvisorBoxes {
  readonly stateDir: string;
  readonly runsc: Runsc;

  constructor(options: GvisorBoxesOptions) {
    this.stateDir = options.stateDir;
    this.runsc = new Runsc({
      root: join(options.stateDir, 'runsc'),
      ...(options.runsc === undefined ? {} : { binary: options.runsc }),
      ...(options.platform === undefined ? {} : { platform: options.platform }),
    });
  }

  /** runsc's version; throws SANDBOX_UNAVAILABLE naming the package when it is missing. */
  async probe(): Promise<string> {
    try {
      return await this.runsc.version();
    } catch (error) {
      throw new NixSpaceError('SANDBOX_UNAVAILABLE', 'runsc (gVisor) does not run: apt-get install runsc', {
        detail: error instanceof NixSpaceError ? error.detail : String(error),
        cause: error,
      });
    }
  }

  async start(spec: GvisorBoxSpec): Promise<GvisorBox> {
    assertBoxSpec(spec);
    await this.#clearStopped(spec.id);
    await mkdir(this.runsc.root, { recursive: true, mode: 0o700 });
    await prepareAgentDir(spec.agentDir);
    const bundle = await writeBundle(this.stateDir, spec);
    try {
      await this.runsc.start(spec.id, bundle.dir, bundle.flags, bundle.logFile);
      return await this.#handle(spec.id, 'running');
    } catch (error) {
      await this.destroy(spec.id).catch(() => undefined);
      throw error;
    }
  }

  /** The box with this id, whatever its status, or undefined when runsc does not know it. */
  async find(id: string): Promise<GvisorBox | undefined> {
    assertBoxId(id);
    const found = await this.runsc.state(id);
    return found === undefined ? undefined : new GvisorBox(this, found, this.#logFile(id));
  }

  /** Every box runsc knows in this state directory. */
  async list(): Promise<GvisorBox[]> {
    return (await this.runsc.list()).map((found) => new GvisorBox(this, found, this.#logFile(found.id)));
  }

  /** Ids with a bundle here: boxes runsc knows, hibernated ones, and leftovers of a crash. */
  async bundles(): Promise<string[]> {
    return readdir(join(this.stateDir, 'boxes')).catch(() => []);
  }

  /**
   * Removes box `id` entirely, known to runsc or not: kills its processes, deletes runsc's state,
   * its cgroups and its bundle. Resolves when nothing of it is left; absent is fine.
   */
  async destroy(id: string): Promise<void> {
    assertBoxId(id);
    const found = await this.runsc.state(id).catch(() => undefined);
    // Only the groups runsc made for the box: the sentry is also in hierarchies runsc leaves alone.
    const own = (dir: string) => dir.endsWith(`/${boxCgroupPath(id)}`);
    const running = found?.pid ? await runningBoxCgroups(found.pid) : [];
    const dirs = [...new Set([...running.filter(own), ...(await expectedBoxCgroups(id))])];
    await this.runsc.delete(id);
    await killBoxProcesses(bundleDir(this.stateDir, id), id);
    await removeBoxCgroups(dirs);
    const left = await existingDirs(dirs);
    if (left.length > 0) {
      throw new NixSpaceError('SANDBOX_FAILED', `box ${id} left cgroups behind: ${left.join(', ')}`);
    }
    await removeBundle(this.stateDir, id);
  }

  async checkpoint(id: string, imageDir: string): Promise<CheckpointImage> {
    assertBoxId(id);
    await mkdir(imageDir, { recursive: true, mode: 0o700 });
    const started = performance.now();
    try {
      await this.runsc.checkpoint(id, imageDir);
    } catch (error) {
      // This runsc cannot save a socket connected to the host, and its sentry dies trying: the
      // agent must have closed its stream before the checkpoint.
      if (error instanceof NixSpaceError && /ConnectedEndpoint/.test(error.detail ?? '')) {
        throw new NixSpaceError(
          'SANDBOX_FAILED',
          `box ${id} was lost: runsc cannot checkpoint a socket connected to the host (the agent's stream must be closed first)`,
          { detail: error.detail, cause: error },
        );
      }
      throw error;
    }
    const ms = performance.now() - started;
    // The sentry exits once the image is written (a second or more, its memory let go); runsc
    // keeps a stopped container, which would keep a restore from taking the id again. Its delete
    // waits for the sentry; only then is the box gone, and a restore of the id safe.
    await this.runsc.delete(id);
    await killBoxProcesses(bundleDir(this.stateDir, id), id);
    return { dir: imageDir, bytes: await treeBytes(imageDir), ms };
  }

  /** Wakes a hibernated box from its image, with the bundle it was started with. */
  async restore(id: string, imageDir: string): Promise<GvisorBox> {
    assertBoxId(id);
    const bundle = await readBundle(this.stateDir, id);
    await this.#clearStopped(id);
    await this.runsc.restore(id, bundle.dir, bundle.flags, imageDir, bundle.logFile);
    return this.#handle(id, 'restored');
  }

  /** Refuses an id that is running; forgets one runsc keeps stopped (its sentry died). */
  async #clearStopped(id: string): Promise<void> {
    const found = await this.runsc.state(id);
    if (found === undefined) return;
    if (found.status !== 'stopped') {
      throw new NixSpaceError('CONFLICT', `box ${id} already exists (${found.status})`);
    }
    await this.runsc.delete(id);
  }

  async #handle(id: string, what: string): Promise<GvisorBox> {
    const found = await this.runsc.state(id);
    if (found?.status !== 'running') {
      throw new NixSpaceError('SANDBOX_FAILED', `box ${id} was ${what} but is not running`, {
        detail: `runsc state: ${found?.status ?? 'unknown'}; see ${this.#logFile(id)}`,
      });
    }
    return new GvisorBox(this, found, this.#logFile(id));
  }

  #logFile(id: string): string {
    return join(bundleDir(this.stateDir, id), 'console.log');
  }
}

async function treeBytes(dir: string): Promise<number> {
  let total = 0;
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    total += entry.isDirectory() ? await treeBytes(path) : (await stat(path)).size;
  }
  return total;
}
