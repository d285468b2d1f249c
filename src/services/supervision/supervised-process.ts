// One program a workspace's sandbox runs for the server (its code-server, a backing service),
// supervised one way: its output followed with its last lines kept, its readiness polled until it
// answers (or it exits, or its time is up), a crash restarted with a bounded, doubling backoff,
// and a stop that asks first and kills its whole command group after a grace period.

import { NixSpaceError } from '../../errors.js';
import type { AgentProcess } from '../../runtime/agent/agent-process.js';
import type { Sandbox } from '../../runtime/sandbox.js';

export interface SupervisionLimits {
  /** Restarts of a crashed program before it is reported failed. */
  maxRestarts: number;
  /** Delay before the first restart, doubled for each next one. */
  restartDelayMs: number;
  /** How long it may take to answer. */
  readyTimeoutMs: number;
  /** How long a graceful stop may take before its group is killed. */
  stopGraceMs: number;
}

/** What a restart tells its program's owner, who keeps the status. */
export interface RestartHooks {
  /** Restarts made so far. */
  restarts(): number;
  restarting(restarts: number, detail: string): void;
  /** Launches it again and resolves once it is ready. */
  relaunch(): Promise<void>;
  running(): void;
  gaveUp(detail: string): void;
}

export interface SupervisedProcessOptions {
  sandbox: Sandbox;
  /** The command group it runs in: a kill ends it with everything it started. */
  group: string;
  /** How messages name it (`code-server`); none for a service, whose status names it. */
  name?: string;
  limits: SupervisionLimits;
  onLine(line: string): void;
  /** It ended on its own (not by stop or release), `how` as a phrase: `exited with code 1`. */
  onExit(how: string): void;
}

const keptLines = 20;

export class SupervisedProcess {
  readonly #options: SupervisedProcessOptions;
  readonly #stopping = new AbortController();
  #child: AgentProcess | undefined;
  #exited: Promise<void> = Promise.resolve();
  #watching: { stop(): void; ended: Promise<void> } | undefined;
  #lastLines: string[] = [];

  constructor(options: SupervisedProcessOptions) {
    this.#options = options;
  }

  /** Aborted by stop() and release(): cancels a pending restart, probe or preparation. */
  get signal(): AbortSignal {
    return this.#stopping.signal;
  }

  get stopped(): boolean {
    return this.#stopping.signal.aborted;
  }

  log(line: string): void {
    this.#lastLines.push(line);
    if (this.#lastLines.length > keptLines) this.#lastLines.shift();
    this.#options.onLine(line);
  }

  /** Follows a launched (or taken back) process: its output into the log, and its exit. */
  watch(child: AgentProcess): void {
    this.#child = child;
    this.#watching = child.watchLines(
      (line) => this.log(line),
      (exit) => {
        if (this.#child !== child) return;
        this.#child = undefined;
        this.#options.onExit(
          exit.code === null ? `was killed (${exit.signal})` : `exited with code ${exit.code}`,
        );
      },
    );
    this.#exited = this.#watching.ended;
  }

  /** Polls `ready` every `pollMs` until it holds; fails if the process exits first or time is up. */
  async waitReady(ready: () => Promise<boolean>, pollMs: number, signal: AbortSignal): Promise<void> {
    const name = this.#options.name ? `${this.#options.name} ` : '';
    const { readyTimeoutMs } = this.#options.limits;
    let exited = false;
    void this.#exited.then(() => {
      exited = true;
    });
    const deadline = Date.now() + readyTimeoutMs;
    for (;;) {
      signal.throwIfAborted();
      if (exited) throw new Error(`${name}exited before it was ready:\n${this.#lastLines.join('\n')}`);
      if ((await ready()) && !exited) return;
      if (Date.now() > deadline) {
        throw new Error(`${name}not ready after ${readyTimeoutMs} ms:\n${this.#lastLines.join('\n')}`);
      }
      await Promise.race([delay(pollMs, signal), this.#exited]);
    }
  }

  /** Restarts the crashed process until one launch is ready or the restarts are spent. */
  async restart(reason: string, hooks: RestartHooks): Promise<void> {
    const signal = this.signal;
    const { maxRestarts, restartDelayMs } = this.#options.limits;
    let why = reason;
    while (!signal.aborted) {
      const made = hooks.restarts();
      if (made >= maxRestarts) {
        hooks.gaveUp(`${why}; gave up after ${made} restarts`);
        return;
      }
      hooks.restarting(made + 1, `${why}; restart ${made + 1} of ${maxRestarts}`);
      try {
        await delay(restartDelayMs * 2 ** made, signal);
        signal.throwIfAborted();
        await hooks.relaunch();
        hooks.running();
        return;
      } catch (error) {
        await this.kill();
        if (signal.aborted) return;
        why = describeError(error);
      }
    }
  }

  /** Asks it to end (`ask`), then kills its group after the grace period; resolves when it is gone. */
  async stop(reason: NixSpaceError, ask: (child: AgentProcess) => Promise<void>): Promise<void> {
    if (!this.stopped) this.#stopping.abort(reason);
    const child = this.#child;
    if (child !== undefined) {
      await ask(child).catch(() => undefined);
      await Promise.race([this.#exited, delay(this.#options.limits.stopGraceMs)]);
    }
    await this.kill();
  }

  /** This server stops; the process runs on in the workspace's agent for the next server to take back. */
  release(reason: NixSpaceError): void {
    if (!this.stopped) this.#stopping.abort(reason);
    this.#watching?.stop();
    this.#child = undefined;
  }

  /** SIGKILLs its group (all it started); resolves when it has ended. */
  async kill(): Promise<void> {
    const child = this.#child;
    if (child === undefined) return;
    await this.#options.sandbox
      .commandGroup(this.#options.group)
      ?.kill()
      .catch(() => undefined);
    await child.forget().catch(() => undefined);
    await Promise.race([this.#exited, delay(this.#options.limits.stopGraceMs)]);
  }
}

export function describeError(error: unknown): string {
  if (error instanceof NixSpaceError && error.detail) return `${error.message}: ${error.detail}`;
  return error instanceof Error ? error.message : String(error);
}

/** Resolves after `ms`, or early (without rejecting) when `signal` aborts. */
export function delay(ms: number, signal?: AbortSignal): Promise<void> {
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
