// runsc, the gVisor runtime, as a command line: one state directory (`--root`) holds the boxes of
// one server, and every call names it, so a server restarted later finds them again.
import { execFile, spawn } from 'node:child_process';
import { open, readFile } from 'node:fs/promises';
import { promisify } from 'node:util';
import { NixSpaceError } from '../../../errors.js';
import { findExecutable } from '../../host/find-executable.js';
import type { NetworkPolicy } from '../../sandbox.js';

const exec = promisify(execFile);

/** The platforms this runsc offers; KVM needs a usable /dev/kvm (it spins where nested). */
export type RunscPlatform = 'ptrace' | 'kvm';

/** What `runsc state` says about a box. */
export interface RunscState {
  id: string;
  /** Host pid of the box's sandbox process (the sentry), 0 once it is gone. */
  pid: number;
  status: 'creating' | 'created' | 'running' | 'paused' | 'stopped';
  bundle: string;
}

export interface RunscOptions {
  /** runsc's state directory (root-only); created by the caller. */
  root: string;
  /** Path of the runsc binary; found on PATH when left out. */
  binary?: string;
  platform?: RunscPlatform;
  /** How long a management command may take before it is killed (ms). */
  timeoutMs?: number;
}

/** The flags the sentry starts with, on run and on restore. */
export interface BoxFlags {
  network: NetworkPolicy;
}

const notFound = /does not exist|not found|no such file/i;

export class Runsc {
  readonly root: string;
  readonly binary: string;
  readonly platform: RunscPlatform;
  readonly #timeoutMs: number;

  constructor(options: RunscOptions) {
    const binary = options.binary ?? findExecutable('runsc');
    if (binary === undefined) {
      throw new NixSpaceError(
        'SANDBOX_UNAVAILABLE',
        'runsc (gVisor) is not installed: apt-get install runsc',
      );
    }
    this.root = options.root;
    this.binary = binary;
    this.platform = options.platform ?? 'ptrace';
    this.#timeoutMs = options.timeoutMs ?? 60_000;
  }

  #global(flags?: BoxFlags): string[] {
    return [
      `--root=${this.root}`,
      `--platform=${this.platform}`,
      // The init may connect to host Unix sockets on its mounts (the agent's); never create them.
      '--host-uds=open',
      ...(flags === undefined ? [] : [`--network=${flags.network}`]),
    ];
  }

  async #run(what: string, args: string[]): Promise<string> {
    try {
      const { stdout } = await exec(this.binary, args, { timeout: this.#timeoutMs, killSignal: 'SIGKILL' });
      return stdout;
    } catch (error) {
      const stderr = (error as { stderr?: string }).stderr?.trim() ?? '';
      throw new NixSpaceError('SANDBOX_FAILED', `runsc could not ${what}`, {
        detail: brief(stderr || String(error)),
      });
    }
  }

  async version(): Promise<string> {
    const out = await this.#run('report its version', ['--version']);
    return /runsc version (\S+)/.exec(out)?.[1] ?? out.trim();
  }

  /** The box's state, or undefined when runsc has no box by that id. */
  async state(id: string): Promise<RunscState | undefined> {
    try {
      return parseState(await this.#run(`read the state of box ${id}`, [...this.#global(), 'state', id]));
    } catch (error) {
      if (error instanceof NixSpaceError && notFound.test(error.detail ?? '')) return undefined;
      throw error;
    }
  }

  async list(): Promise<RunscState[]> {
    const out = await this.#run('list the boxes', [...this.#global(), 'list', '--format=json']);
    const parsed: unknown = JSON.parse(out.trim() || '[]');
    return Array.isArray(parsed) ? parsed.map((entry) => parseState(JSON.stringify(entry))) : [];
  }

  /**
   * `runsc run --detach`: creates the sandbox and starts the init, then returns. The box's stdio
   * and runsc's own messages go to `logFile`, not to a pipe of this process, and runsc starts in a
   * session of its own, so the box outlives whoever started it.
   */
  start(id: string, bundle: string, flags: BoxFlags, logFile: string): Promise<void> {
    const args = [...this.#global(flags), 'run', '--detach', `--bundle=${bundle}`, id];
    return this.#detached(`start box ${id}`, args, logFile);
  }

  /** `runsc restore --detach`: a new sandbox for `id` from a checkpoint image. */
  restore(id: string, bundle: string, flags: BoxFlags, imageDir: string, logFile: string): Promise<void> {
    const args = [...this.#global(flags), 'restore', '--detach', `--bundle=${bundle}`];
    args.push(`--image-path=${imageDir}`, id);
    return this.#detached(`restore box ${id}`, args, logFile);
  }

  /** Saves the box's memory and processes in imageDir; the box is stopped afterwards. */
  async checkpoint(id: string, imageDir: string): Promise<void> {
    await this.#run(`checkpoint box ${id}`, [
      ...this.#global(),
      'checkpoint',
      `--image-path=${imageDir}`,
      id,
    ]);
  }

  /** Kills the sandbox (if running) and forgets the box: its state and its cgroups. */
  async delete(id: string): Promise<void> {
    try {
      await this.#run(`delete box ${id}`, [...this.#global(), 'delete', '--force', id]);
    } catch (error) {
      if (error instanceof NixSpaceError && notFound.test(error.detail ?? '')) return;
      throw error;
    }
  }

  async #detached(what: string, args: string[], logFile: string): Promise<void> {
    const log = await open(logFile, 'a', 0o600);
    const start = (await log.stat()).size;
    try {
      const code = await new Promise<number | null>((resolve, reject) => {
        const child = spawn(this.binary, args, { stdio: ['ignore', log.fd, log.fd], detached: true });
        const timer = setTimeout(() => child.kill('SIGKILL'), this.#timeoutMs);
        child.once('error', reject);
        child.once('exit', (exitCode) => {
          clearTimeout(timer);
          resolve(exitCode);
        });
      });
      if (code !== 0) {
        const text = (await readFile(logFile, 'utf8').catch(() => '')).slice(start).trim();
        throw new NixSpaceError('SANDBOX_FAILED', `runsc could not ${what} (exit ${code})`, {
          detail: brief(text),
        });
      }
    } finally {
      await log.close();
    }
  }
}

function parseState(text: string): RunscState {
  const raw = JSON.parse(text) as Partial<RunscState>;
  return {
    id: String(raw.id),
    pid: Number(raw.pid ?? 0),
    status: (raw.status ?? 'stopped') as RunscState['status'],
    bundle: String(raw.bundle ?? ''),
  };
}

/** runsc's messages carry whole Go stacks: the start says what failed, the end where. */
function brief(text: string): string {
  if (text.length <= 2000) return text;
  return `${text.slice(0, 1200)}\n…\n${text.slice(-600)}`;
}
