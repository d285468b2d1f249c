// Gives every running workspace its code-server: installs code-server on first use (once per
// machine, with its progress in the IDE status), then starts and supervises one runner per
// workspace. Starting never blocks the workspace: the status tells how far the IDE is.

import { stretchedDeadline } from '../../runtime/sandbox.js';
import type { CodeServerInstallation, CodeServerInstaller } from './code-server-install.js';
import {
  type CodeServerContext,
  CodeServerRunner,
  type IdeStatus,
  type RunnerLimits,
} from './code-server-runner.js';

export interface IdeHandle {
  /** Current as of the read. */
  readonly status: IdeStatus;
  /** The host-side socket the server connects to. */
  readonly socketPath: string;
  /** The cookie each request must carry to this start of code-server (never sent to a browser). */
  readonly authCookie: string;
  /** Resolves when code-server is up or its status says why not. */
  readonly ready: Promise<void>;
  stop(): Promise<void>;
  /** This server stops: code-server runs on in the workspace for the next to take back. */
  release(): void;
}

export interface IdeSupervisorOptions {
  installer: CodeServerInstaller;
  /** Install on first use when code-server is missing (default true). */
  installOnDemand?: boolean;
  maxRestarts?: number;
  restartDelayMs?: number;
  readyTimeoutMs?: number;
  stopGraceMs?: number;
  onInstallLog?(line: string): void;
}

export class IdeSupervisor {
  readonly installer: CodeServerInstaller;
  readonly #limits: RunnerLimits;
  readonly #installOnDemand: boolean;
  readonly #onInstallLog: (line: string) => void;
  #installation: CodeServerInstallation | undefined;

  constructor(options: IdeSupervisorOptions) {
    this.installer = options.installer;
    this.#installOnDemand = options.installOnDemand ?? true;
    this.#onInstallLog = options.onInstallLog ?? (() => {});
    this.#limits = {
      maxRestarts: options.maxRestarts ?? 3,
      restartDelayMs: options.restartDelayMs ?? 500,
      readyTimeoutMs: options.readyTimeoutMs ?? 60_000,
      stopGraceMs: options.stopGraceMs ?? 3000,
    };
  }

  /** Directories the sandbox must see read-only for code-server to run in it. */
  get readOnlyPaths(): string[] {
    return [this.installer.dir];
  }

  start(context: CodeServerContext): IdeHandle {
    const limits = {
      ...this.#limits,
      readyTimeoutMs: stretchedDeadline(this.#limits.readyTimeoutMs, context.slowdown),
    };
    const runner = new CodeServerRunner(context, limits);
    const ready = (async () => {
      const installation = await this.#install(runner);
      if (installation) await runner.start(installation);
    })();
    return {
      get status() {
        return { ...runner.status };
      },
      socketPath: runner.socketPath,
      get authCookie() {
        return runner.authCookie;
      },
      ready,
      stop: async () => {
        await runner.stop();
        await ready;
      },
      release: () => runner.release(),
    };
  }

  async #install(runner: CodeServerRunner): Promise<CodeServerInstallation | undefined> {
    this.#installation ??= await this.installer.installed();
    if (this.#installation) return this.#installation;
    if (!this.#installOnDemand) {
      runner.update({
        status: 'failed',
        detail: `code-server is not installed in ${this.installer.dir}; run \`nixspace install-ide\``,
      });
      return undefined;
    }
    runner.update({ status: 'installing', detail: 'installing code-server (once per machine)' });
    try {
      this.#installation = await this.installer.ensure({
        onLog: (line) => {
          this.#onInstallLog(line);
          if (!runner.stopped) runner.update({ detail: line.slice(0, 300) });
        },
      });
      return runner.stopped ? undefined : this.#installation;
    } catch (error) {
      if (!runner.stopped) {
        runner.update({ status: 'failed', detail: error instanceof Error ? error.message : String(error) });
      }
      return undefined;
    }
  }
}
