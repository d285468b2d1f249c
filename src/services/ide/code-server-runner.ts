// One code-server of one workspace: runs inside the workspace's sandbox with its environment,
// listens on a Unix socket in the sandbox's own runtime directory (the sandbox has no network; no
// other sandbox mounts that directory), is restarted after a crash (bounded, with backoff) and
// stopped with the workspace. Settings and extensions live under the workspace, so they persist.
//
// The server reaches it through a socket of its own in a directory no sandbox sees, whose every
// connection the workspace's agent carries on to code-server's (runtime/agent/agent-forward.ts):
// the host never connects to a path the sandbox could swap, and no driver needs to share a socket
// with the host (a gVisor box or a microVM cannot). Each start gets a
// random secret that code-server requires of every request (its session cookie, which only the
// server's proxy adds); a browser never holds it.

import { randomBytes } from 'node:crypto';
import { lstat, readFile, rm, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { NixSpaceError } from '../../errors.js';
import { AgentForward } from '../../runtime/agent/agent-forward.js';
import { AgentProcess } from '../../runtime/agent/agent-process.js';
import type { Sandbox } from '../../runtime/sandbox.js';
import { execInSandbox } from '../../runtime/sandbox-exec.js';
import type { ProcessInfo } from '../../wire/agent.js';
import type { IdeState, IdeStatus } from '../../wire/workspaces.js';
import {
  describeError,
  SupervisedProcess,
  type SupervisionLimits,
} from '../supervision/supervised-process.js';
import type { CodeServerInstallation } from './code-server-install.js';

/** The runner's state, as the workspace view shows it (src/wire/workspaces.ts). */
export type { IdeState, IdeStatus };

export type RunnerLimits = SupervisionLimits;

export interface CodeServerContext {
  sandbox: Sandbox;
  workspaceDir: string;
  /** The folder VS Code opens. */
  folder: string;
  /** The workspace's activated environment: what VS Code's terminals and tasks see. */
  env: Record<string, string>;
  /** Where its settings and extensions live; `<workspaceDir>/.nixspace/ide` by default. */
  stateDir?: string;
  /**
   * Where code-server listens: the sandbox's own runtime directory (SandboxSpec.runtimeDir), or
   * the driver's socketDir where that cannot hold a socket.
   */
  runtimeDir: string;
  /** The server's end of the way to it, in a host directory no sandbox sees. */
  hostSocket: string;
  /**
   * How many times as long as on the host code-server may take to answer (the sandbox driver's
   * startupSlowdown); 1 when absent.
   */
  slowdown?: number;
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

/**
 * What a viewer's terminal runs instead of a shell: it says so, and waits for Enter to close
 * (`read` only stores the line; nothing typed is run).
 */
const noTerminal = {
  path: '/bin/sh',
  args: [
    '-c',
    'echo "This is a read-only view of the workspace: it has no terminal. Press Enter to close."; read -r _',
  ],
};

/**
 * A viewer's IDE: editors open read-only, nothing offers to change the workspace, and no terminal
 * or task runs a shell (the built-in profiles are removed; what is left only says so). The
 * workspace stays untrusted (restricted mode: no tasks, no debugging, no workspace settings). Its
 * sandbox is read-only whatever runs in it; this keeps the view from offering what it cannot do.
 */
const readOnlySettings = {
  'files.readonlyInclude': { '**': true },
  'files.autoSave': 'off',
  'git.enabled': false,
  'terminal.integrated.enablePersistentSessions': false,
  'terminal.integrated.profiles.linux': {
    bash: null,
    zsh: null,
    fish: null,
    sh: null,
    tmux: null,
    pwsh: null,
    'read-only view': noTerminal,
  },
  'terminal.integrated.defaultProfile.linux': 'read-only view',
  'terminal.integrated.automationProfile.linux': noTerminal,
  // Its one line is text in the page (readable by screen readers and tests), not a canvas.
  'terminal.integrated.gpuAcceleration': 'off',
  'task.autoDetect': 'off',
  'task.allowAutomaticTasks': 'off',
  'security.workspace.trust.enabled': true,
  'security.workspace.trust.startupPrompt': 'never',
  'security.workspace.trust.banner': 'never',
  'security.workspace.trust.emptyWindow': false,
};

/** code-server's session cookie: with a hashed password that is not argon2, it must equal it. */
export const CODE_SERVER_COOKIE = 'code-server-session';

/** The agent's name for code-server, and the command group it runs in. */
const ideProcess = 'ide';
const ideGroup = 'ide';

/**
 * What runs code-server in the sandbox (code-server-launch.ts, built): the build is shown to every
 * sandbox read-only, for the agent. This file is at src/services/ide (tsx) or dist/services/ide.
 */
const launcher = join(
  dirname(fileURLToPath(import.meta.url)),
  '..',
  '..',
  '..',
  'dist',
  'services',
  'ide',
  'code-server-launch.js',
);

/** Unix socket paths are limited to 107 bytes by the kernel. */
const maxSocketPath = 107;

export function ideDir(workspaceDir: string): string {
  return join(workspaceDir, '.nixspace', 'ide');
}

export class CodeServerRunner {
  readonly status: IdeStatus = { status: 'starting', startedAt: null, restarts: 0, detail: null };
  /** The host-side socket the server connects to (carried on by the agent). */
  readonly socketPath: string;
  /** Where code-server listens, inside the sandbox's runtime directory. */
  readonly listenPath: string;
  readonly #context: CodeServerContext;
  readonly #dir: string;
  readonly #process: SupervisedProcess;
  #installation: CodeServerInstallation | undefined;
  #forward: AgentForward | undefined;
  /** The code-server a previous server left running, found at prepare, taken back at launch. */
  #kept: ProcessInfo | undefined;
  #secret = randomBytes(32).toString('hex');
  /** When the running code-server's process started (the agent's word for it). */
  #startedAt: string | undefined;

  constructor(context: CodeServerContext, limits: RunnerLimits) {
    this.#context = context;
    this.#process = new SupervisedProcess({
      sandbox: context.sandbox,
      group: ideGroup,
      name: 'code-server',
      limits,
      onLine: (line) => context.onLog?.(line),
      onExit: (how) => this.#onExit(how),
    });
    this.#dir = context.stateDir ?? ideDir(context.workspaceDir);
    this.listenPath = join(context.runtimeDir, 'code-server.sock');
    this.socketPath = context.hostSocket;
  }

  /** The cookie every request to this start of code-server must carry (the proxy adds it). */
  get authCookie(): string {
    return `${CODE_SERVER_COOKIE}=${this.#secret}`;
  }

  /** Host pids of code-server and everything it started (its command group), while one runs. */
  async hostPids(): Promise<number[]> {
    return (await this.#context.sandbox.commandGroup(ideGroup)?.pids()) ?? [];
  }

  /** Where this start's secret is kept for a server that restarts under a running code-server. */
  get #secretPath(): string {
    return `${this.socketPath}.secret`;
  }

  get stopped(): boolean {
    return this.#process.stopped;
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
      this.update({
        status: 'running',
        startedAt: this.#startedAt ?? new Date().toISOString(),
        detail: null,
      });
    } catch (error) {
      await this.#process.kill();
      if (this.stopped) return;
      this.update({ status: 'failed', detail: describeError(error) });
    }
  }

  async #prepare(): Promise<void> {
    const { sandbox, readOnly } = this.#context;
    for (const path of [this.listenPath, this.socketPath]) {
      if (path.length > maxSocketPath) {
        throw new NixSpaceError(
          'IDE_UNAVAILABLE',
          `the IDE socket path ${path} is longer than ${maxSocketPath} bytes; use a shorter --data-dir`,
        );
      }
    }
    const dir = this.#dir;
    this.#kept = await AgentProcess.running(sandbox.agent, ideProcess);
    if (this.#forward === undefined) {
      const forward = await AgentForward.listen(sandbox.agent, this.socketPath, this.listenPath);
      // Stopped (or let go of) while it was being made: nothing else would close it.
      if (this.stopped) {
        await forward.close();
        throw new NixSpaceError('INTERRUPTED', 'the IDE is stopping');
      }
      this.#forward = forward;
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
        // A code-server still running (from before a server restart) keeps its socket.
        this.#kept ? `${this.listenPath}.kept` : this.listenPath,
        JSON.stringify(settings, null, 2),
        readOnly ? 'replace' : 'keep',
      ],
      { signal: this.#process.signal },
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
    // Where programs start slowly, code-server's own 10 s for its forked copy is not enough: run it
    // in one process (code-server-launch.ts). Elsewhere it starts as it ships.
    const slow = (this.#context.slowdown ?? 1) > 1;
    const argv = [
      installation.node,
      ...(slow ? [launcher] : []),
      installation.entry,
      '--auth',
      'password',
      '--socket',
      this.listenPath,
      '--socket-mode',
      '600',
      '--disable-telemetry',
      '--disable-update-check',
      // The owner trusts their own workspace; a viewer's stays in restricted mode.
      ...(this.#context.readOnly ? [] : ['--disable-workspace-trust']),
      '--user-data-dir',
      join(dir, 'user-data'),
      '--extensions-dir',
      join(dir, 'extensions'),
      '--config',
      join(dir, 'config.yaml'),
      folder,
    ];
    const agent = sandbox.agent;
    // The code-server a previous server left running is taken back as it is: VS Code reconnects.
    const running = this.#kept;
    this.#kept = undefined;
    const kept = running && (await readFile(this.#secretPath, 'utf8').catch(() => undefined));
    if (running && kept && /^[0-9a-f]{64}$/.test(kept)) {
      this.#secret = kept;
      // The page VS Code has open belongs to this start: the same start, so it is kept.
      this.#startedAt = running.startedAt;
      this.#process.watch(AgentProcess.adopt(agent, running));
    } else {
      // A new secret per start, handed over in the environment (code-server drops it from its own
      // before VS Code's terminals inherit it): a hashed password that is no argon2 hash is compared
      // with the session cookie as it is, and no password typed on its login page can match it.
      this.#secret = randomBytes(32).toString('hex');
      await writeFile(this.#secretPath, this.#secret, { mode: 0o600 });
      // In a group of its own: stop() and a crash find code-server and its helpers at once. What
      // is left of an earlier one (its exit, or one whose secret is lost) goes first.
      const child = await AgentProcess.respawn(agent, {
        id: ideProcess,
        argv,
        cwd: folder,
        env: { ...env, HASHED_PASSWORD: this.#secret },
        output: { mode: 'ring', bytes: 64 * 1024 },
        group: ideGroup,
      });
      // The start is the process's, as the agent tells it: the same when a server takes it back.
      this.#startedAt = child.info.startedAt;
      this.#process.watch(child);
    }
    await this.#process.waitReady(() => answers(this.socketPath), 25, this.#process.signal);
  }

  #onExit(how: string): void {
    this.#process.log(`nixspace: code-server ${how}`);
    if (this.status.status !== 'running' || this.stopped) return;
    void this.#process.restart(`code-server ${how}`, {
      restarts: () => this.status.restarts,
      restarting: (restarts, detail) => this.update({ status: 'restarting', restarts, detail }),
      relaunch: async () => {
        await this.#prepare();
        await this.#launch();
      },
      running: () => this.update({ status: 'running', startedAt: new Date().toISOString(), detail: null }),
      gaveUp: (detail) => this.update({ status: 'failed', detail }),
    });
  }

  /** SIGTERM to code-server's process group, SIGKILL to its group after the grace period. */
  async stop(): Promise<void> {
    try {
      await this.#process.stop(new NixSpaceError('INTERRUPTED', 'the IDE is stopping'), (child) =>
        child.signal('SIGTERM'),
      );
    } finally {
      // However the stop went, the server's end of the way in goes: it would keep the server up.
      await this.#forward?.close();
      await rm(this.#secretPath, { force: true });
    }
    this.update({ status: 'stopped', detail: null });
  }

  /**
   * This server stops; code-server runs on in the workspace's agent for the next one, which takes
   * it back (start() finds it).
   */
  release(): void {
    this.#process.release(new NixSpaceError('INTERRUPTED', 'the server is stopping'));
    void this.#forward?.close();
  }
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
