// One code-server of one workspace: runs inside the workspace's sandbox with its environment,
// listens on a Unix socket in the workspace directory (the sandbox has no network, the server
// reaches the socket from outside), is restarted after a crash (bounded, with backoff) and stopped
// with the workspace. Settings and extensions live under the workspace, so they persist.

import { type ChildProcess, spawn } from 'node:child_process';
import { lstat } from 'node:fs/promises';
import { request } from 'node:http';
import { connect } from 'node:net';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { NixSpaceError } from '../../errors.js';
import type { Sandbox } from '../../runtime/sandbox.js';
import type { IdeState, IdeStatus } from '../../wire/workspaces.js';
import { execInSandbox } from '../workspaces/backing-services/sandbox-exec.js';
import type { CodeServerInstallation } from './code-server-install.js';

/** The runner's state, as the workspace view shows it (src/wire/workspaces.ts). */
export type { IdeState, IdeStatus };

export interface RunnerLimits {
  maxRestarts: number;
  restartDelayMs: number;
  readyTimeoutMs: number;
  stopGraceMs: number;
}

export interface CodeServerContext {
  sandbox: Sandbox;
  workspaceDir: string;
  /** The folder VS Code opens. */
  folder: string;
  /** The workspace's activated environment: what VS Code's terminals and tasks see. */
  env: Record<string, string>;
  /** Where its socket, settings and extensions live; `<workspaceDir>/.nixspace/ide` by default. */
  stateDir?: string;
  /** A view for someone who may only look: every file opens read-only (the sandbox enforces it). */
  readOnly?: boolean;
  onChange?(status: IdeStatus): void;
  onLog?(line: string): void;
}

/**
 * A quiet first start: no welcome page, no telemetry, no AI chat panel (no model is wired up), and
 * no secondary side bar (it would only stand empty beside the editor).
 */
const defaultSettings = {
  'workbench.startupEditor': 'none',
  'workbench.secondarySideBar.defaultVisibility': 'hidden',
  'telemetry.telemetryLevel': 'off',
  'chat.disableAIFeatures': true,
  'update.mode': 'none',
};

/** A viewer's IDE: editors open read-only, and nothing offers to change the workspace. */
const readOnlySettings = {
  'files.readonlyInclude': { '**': true },
  'files.autoSave': 'off',
  'git.enabled': false,
  'terminal.integrated.enablePersistentSessions': false,
};

/** Unix socket paths are limited to 107 bytes by the kernel. */
const maxSocketPath = 107;
const keptLines = 20;

export function ideDir(workspaceDir: string): string {
  return join(workspaceDir, '.nixspace', 'ide');
}

export function ideSocketPath(workspaceDir: string): string {
  return join(ideDir(workspaceDir), 'code-server.sock');
}

export class CodeServerRunner {
  readonly status: IdeStatus = { status: 'starting', startedAt: null, restarts: 0, detail: null };
  readonly socketPath: string;
  readonly #context: CodeServerContext;
  readonly #limits: RunnerLimits;
  readonly #dir: string;
  readonly #stopping = new AbortController();
  #installation: CodeServerInstallation | undefined;
  #child: ChildProcess | undefined;
  #childExited: Promise<void> = Promise.resolve();
  #lastLines: string[] = [];

  constructor(context: CodeServerContext, limits: RunnerLimits) {
    this.#context = context;
    this.#limits = limits;
    this.#dir = context.stateDir ?? ideDir(context.workspaceDir);
    this.socketPath = join(this.#dir, 'code-server.sock');
  }

  /** Host pid of the process wrapping code-server (its process group), while one runs. */
  get pid(): number | undefined {
    return this.#child?.pid;
  }

  get stopped(): boolean {
    return this.#stopping.signal.aborted;
  }

  update(patch: Partial<IdeStatus>): void {
    Object.assign(this.status, patch);
    this.#context.onChange?.({ ...this.status });
  }

  /** Resolves once code-server answers, or its status says why not. */
  async start(installation: CodeServerInstallation): Promise<void> {
    this.#installation = installation;
    if (this.stopped) return;
    this.update({ status: 'starting', detail: null });
    try {
      await this.#prepare();
      await this.#launch();
      this.update({ status: 'running', startedAt: new Date().toISOString(), detail: null });
    } catch (error) {
      await this.#killChild();
      if (this.stopped) return;
      this.update({ status: 'failed', detail: describe(error) });
    }
  }

  async #prepare(): Promise<void> {
    const { sandbox, readOnly } = this.#context;
    if (this.socketPath.length > maxSocketPath) {
      throw new NixSpaceError(
        'IDE_UNAVAILABLE',
        `the IDE socket path ${this.socketPath} is longer than ${maxSocketPath} bytes; use a shorter --data-dir`,
      );
    }
    const dir = this.#dir;
    if (await accepts(this.socketPath)) {
      throw new NixSpaceError(
        'IDE_UNAVAILABLE',
        `the IDE socket ${this.socketPath} is already in use by another process in the workspace`,
      );
    }
    // Done from inside the sandbox: the workspace controls its directory, and a host-side write
    // there could be redirected by a symlink. A socket left by a code-server that crashed answers
    // nothing and would block the bind, so it goes. First-start settings never replace the user's;
    // a read-only view's are written every time (its holder may not keep other settings).
    const userDir = join(dir, 'user-data', 'User');
    const settings = readOnly ? { ...defaultSettings, ...readOnlySettings } : defaultSettings;
    const made = await execInSandbox(
      sandbox,
      [
        'sh',
        '-c',
        'mkdir -p -m 700 "$0" "$1" && rm -f "$2" && { [ "$4" = keep ] && [ -e "$1/settings.json" ] || printf "%s\n" "$3" > "$1/settings.json"; }',
        dir,
        userDir,
        this.socketPath,
        JSON.stringify(settings, null, 2),
        readOnly ? 'replace' : 'keep',
      ],
      { signal: this.#stopping.signal },
    );
    if (made.code !== 0) {
      throw new NixSpaceError('SANDBOX_FAILED', 'cannot prepare the IDE directory', {
        detail: made.stderr.trim(),
      });
    }
  }

  async #launch(): Promise<void> {
    const installation = this.#installation!;
    const { sandbox, folder, env } = this.#context;
    const dir = this.#dir;
    const argv = [
      installation.node,
      installation.entry,
      '--auth',
      'none',
      '--socket',
      this.socketPath,
      '--socket-mode',
      '600',
      '--disable-telemetry',
      '--disable-update-check',
      '--disable-workspace-trust',
      '--user-data-dir',
      join(dir, 'user-data'),
      '--extensions-dir',
      join(dir, 'extensions'),
      '--config',
      join(dir, 'config.yaml'),
      folder,
    ];
    const command = sandbox.command(argv, { cwd: folder, env });
    // Detached: its own process group, so stop() can signal code-server and its helpers at once.
    const child = spawn(command.file, command.args, {
      cwd: command.cwd,
      env: command.env,
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    this.#child = child;
    this.#childExited = new Promise((resolve) => {
      child.once('close', (code, signal) => {
        this.#onExit(child, code, signal);
        resolve();
      });
      child.once('error', (error) => this.#log(`cannot start: ${error.message}`));
    });
    for (const stream of [child.stdout!, child.stderr!]) {
      createInterface({ input: stream, crlfDelay: Number.POSITIVE_INFINITY }).on('line', (line) =>
        this.#log(line),
      );
    }
    let exited = false;
    void this.#childExited.then(() => {
      exited = true;
    });
    const deadline = Date.now() + this.#limits.readyTimeoutMs;
    const signal = this.#stopping.signal;
    for (;;) {
      signal.throwIfAborted();
      if (exited) throw new Error(`code-server exited before it was ready:\n${this.#lastLines.join('\n')}`);
      if ((await answers(this.socketPath)) && !exited) return;
      if (Date.now() > deadline) {
        throw new Error(
          `code-server not ready after ${this.#limits.readyTimeoutMs} ms:\n${this.#lastLines.join('\n')}`,
        );
      }
      await Promise.race([delay(25, signal), this.#childExited]);
    }
  }

  #onExit(child: ChildProcess, code: number | null, signal: NodeJS.Signals | null): void {
    if (this.#child !== child) return;
    this.#child = undefined;
    const how = code === null ? `was killed (${signal})` : `exited with code ${code}`;
    this.#log(`nixspace: code-server ${how}`);
    if (this.status.status === 'running' && !this.stopped) void this.#restart(`code-server ${how}`);
  }

  async #restart(reason: string): Promise<void> {
    const signal = this.#stopping.signal;
    let why = reason;
    while (!signal.aborted) {
      if (this.status.restarts >= this.#limits.maxRestarts) {
        this.update({ status: 'failed', detail: `${why}; gave up after ${this.status.restarts} restarts` });
        return;
      }
      this.update({
        status: 'restarting',
        restarts: this.status.restarts + 1,
        detail: `${why}; restart ${this.status.restarts + 1} of ${this.#limits.maxRestarts}`,
      });
      try {
        await delay(this.#limits.restartDelayMs * 2 ** (this.status.restarts - 1), signal);
        signal.throwIfAborted();
        await this.#prepare();
        await this.#launch();
        this.update({ status: 'running', startedAt: new Date().toISOString(), detail: null });
        return;
      } catch (error) {
        await this.#killChild();
        if (signal.aborted) return;
        why = describe(error);
      }
    }
  }

  /** SIGTERM to code-server's process group, SIGKILL after the grace period. */
  async stop(): Promise<void> {
    if (!this.stopped) this.#stopping.abort(new NixSpaceError('INTERRUPTED', 'the IDE is stopping'));
    const child = this.#child;
    if (child?.pid !== undefined && child.exitCode === null && child.signalCode === null) {
      try {
        process.kill(-child.pid, 'SIGTERM');
      } catch {
        // Already gone.
      }
      await Promise.race([this.#childExited, delay(this.#limits.stopGraceMs)]);
    }
    await this.#killChild();
    this.update({ status: 'stopped', detail: null });
  }

  async #killChild(): Promise<void> {
    const child = this.#child;
    if (child === undefined) return;
    if (child.exitCode === null && child.signalCode === null && child.pid !== undefined) {
      try {
        process.kill(-child.pid, 'SIGKILL');
      } catch {
        child.kill('SIGKILL');
      }
    }
    await this.#childExited;
  }

  #log(line: string): void {
    this.#lastLines.push(line);
    if (this.#lastLines.length > keptLines) this.#lastLines.shift();
    this.#context.onLog?.(line);
  }
}

/** True when something listens on the socket (HTTP or not). */
function accepts(socketPath: string): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(socketPath);
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/**
 * True when an HTTP server answers on the socket. The path must be a socket, not a symlink the
 * workspace planted to send the server's requests elsewhere.
 */
export async function answers(socketPath: string, timeoutMs = 2000): Promise<boolean> {
  try {
    const stat = await lstat(socketPath);
    if (!stat.isSocket()) return false;
  } catch {
    return false;
  }
  return new Promise((resolve) => {
    const req = request({ socketPath, path: '/healthz', method: 'GET', timeout: timeoutMs }, (res) => {
      res.resume();
      resolve((res.statusCode ?? 500) < 500);
    });
    req.once('timeout', () => req.destroy());
    req.once('error', () => resolve(false));
    req.end();
  });
}

function describe(error: unknown): string {
  if (error instanceof NixSpaceError && error.detail) return `${error.message}: ${error.detail}`;
  return error instanceof Error ? error.message : String(error);
}

function delay(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}
