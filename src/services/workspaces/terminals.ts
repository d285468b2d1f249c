// Terminal sessions of one workspace: shells the workspace agent runs on terminals of its own. A
// session outlives the browser tab that opened it, and the server too: the agent keeps the shell
// and its recent output, and a restarted server finds it again. A tab that reattaches gets the
// recent output replayed; a shell nobody reattaches to is closed after an idle time. A workspace at
// its cap closes its longest-detached shell to open a new one, so the owner is never locked out by
// forgotten tabs.

import { randomUUID } from 'node:crypto';
import { constants } from 'node:os';
import { StringDecoder } from 'node:string_decoder';
import { NixSpaceError } from '../../errors.js';
import type { AgentLink } from '../../runtime/agent/agent-link.js';
import { AgentProcess, type Following } from '../../runtime/agent/agent-process.js';
import type { ProcessExit, ProcessInfo } from '../../wire/agent.js';
import type { TerminalOpener } from '../../wire/terminal.js';

const SCROLLBACK_BYTES = 256 * 1024;

/** The agent's name for a shell: who opened it and the session id the tabs know it by. */
const agentIdPattern = /^terminal-(owner|editor)-([0-9a-f-]{36})$/;

export interface TerminalLimits {
  /** Shells open at once in one workspace. */
  max?: number;
  /** A shell nobody is attached to is closed after this long. */
  detachedIdleMs?: number;
}

export const defaultTerminalLimits = { max: 32, detachedIdleMs: 15 * 60_000 } as const;

export interface TerminalClient {
  onData(data: string): void;
  onExit(code: number): void;
}

export interface TerminalWatcher {
  opened(session: TerminalSession): void;
  /** The workspace stopped: every shell is gone. */
  closed(): void;
}

export interface TerminalShell {
  argv: string[];
  cwd: string;
  env: Record<string, string>;
}

export class TerminalSession {
  readonly id: string;
  readonly createdAt: Date;
  private readonly clients = new Set<TerminalClient>();
  private scrollback: string[] = [];
  private scrollbackBytes = 0;
  private exitCode: number | undefined;
  private idleTimer: NodeJS.Timeout | undefined;
  private readonly output: Following;
  /** When the last client left (or the shell opened, before anyone attached). */
  detachedSince: number | undefined = Date.now();

  constructor(
    private readonly process: AgentProcess,
    private readonly onClosed: (session: TerminalSession) => void,
    /** Who opened it: what a viewer is told it watches. */
    readonly openedBy: TerminalOpener,
    private readonly idle: { ms: number; onIdle(session: TerminalSession): void },
  ) {
    const [, , id] = agentIdPattern.exec(process.id) ?? [];
    this.id = id ?? randomUUID();
    this.createdAt = new Date(process.info.startedAt);
    this.startIdleTimer();
    const decoder = new StringDecoder('utf8');
    // From the oldest byte the agent kept: a shell found again after a restart brings its scrollback.
    this.output = process.follow('stdout', process.info.output.stdout.start, (bytes) => {
      const data = decoder.write(bytes);
      if (data.length === 0) return;
      this.remember(data);
      for (const client of this.clients) client.onData(data);
    });
    void Promise.all([process.exited, this.output.done]).then(([exit]) => {
      const exitCode = exitCodeOf(exit);
      this.exitCode = exitCode;
      clearTimeout(this.idleTimer);
      for (const client of this.clients) client.onExit(exitCode);
      this.clients.clear();
      this.onClosed(this);
    });
  }

  /** The shell's pid inside the workspace. */
  get pid(): number {
    return this.process.pid;
  }

  get exited(): boolean {
    return this.exitCode !== undefined;
  }

  /** True while at least one client (a tab, a viewer) is attached. */
  get attached(): boolean {
    return this.clients.size > 0;
  }

  /** Attaches a viewer: it first receives the kept output, then everything new. */
  attach(client: TerminalClient): { replay: string; detach(): void } {
    this.clients.add(client);
    clearTimeout(this.idleTimer);
    this.detachedSince = undefined;
    return {
      replay: this.scrollback.join(''),
      detach: () => {
        if (!this.clients.delete(client) || this.clients.size > 0 || this.exited) return;
        this.detachedSince = Date.now();
        this.startIdleTimer();
      },
    };
  }

  write(data: string): void {
    if (!this.exited) this.process.write(data);
  }

  resize(cols: number, rows: number): void {
    if (this.exited) return;
    const c = Math.max(2, Math.min(1000, Math.floor(cols)));
    const r = Math.max(1, Math.min(500, Math.floor(rows)));
    this.process.resize(c, r);
  }

  kill(): void {
    clearTimeout(this.idleTimer);
    if (!this.exited) void this.process.forget().catch(() => undefined);
  }

  /** Lets the shell go from this server only: the agent keeps running it (a server shutting down). */
  release(): void {
    clearTimeout(this.idleTimer);
    this.output.stop();
  }

  private startIdleTimer(): void {
    clearTimeout(this.idleTimer);
    this.idleTimer = setTimeout(() => this.idle.onIdle(this), this.idle.ms);
    this.idleTimer.unref();
  }

  private remember(data: string): void {
    this.scrollback.push(data);
    this.scrollbackBytes += data.length;
    while (this.scrollbackBytes > SCROLLBACK_BYTES && this.scrollback.length > 1) {
      this.scrollbackBytes -= this.scrollback.shift()!.length;
    }
  }
}

export class WorkspaceTerminals {
  private readonly sessions = new Map<string, TerminalSession>();
  private readonly watchers = new Set<TerminalWatcher>();
  private readonly limits: Required<TerminalLimits>;

  constructor(
    private readonly agent: AgentLink,
    private readonly shell: TerminalShell,
    limits: TerminalLimits = {},
  ) {
    this.limits = { ...defaultTerminalLimits, ...limits };
  }

  /** Takes back the shells the agent still runs (after a server restart); returns how many. */
  adopt(processes: readonly ProcessInfo[]): number {
    let adopted = 0;
    for (const info of processes) {
      const match = agentIdPattern.exec(info.id);
      if (!match || info.exit !== undefined || this.sessions.has(match[2]!)) continue;
      this.add(AgentProcess.adopt(this.agent, info), match[1] as TerminalOpener);
      adopted += 1;
    }
    return adopted;
  }

  get size(): number {
    return this.sessions.size;
  }

  get(terminalId: string): TerminalSession | undefined {
    return this.sessions.get(terminalId);
  }

  list(): TerminalSession[] {
    return [...this.sessions.values()];
  }

  /** The shell opened last (by `openedBy`, when given) that still runs. */
  latest(openedBy?: TerminalOpener): TerminalSession | undefined {
    return this.list()
      .filter((session) => openedBy === undefined || session.openedBy === openedBy)
      .at(-1);
  }

  /** Tells `watcher` of each shell opened from now on, and when all close; returns what stops it. */
  watch(watcher: TerminalWatcher): () => void {
    this.watchers.add(watcher);
    return () => this.watchers.delete(watcher);
  }

  /**
   * Opens a shell. At the cap, the shell detached longest is closed to make room; when every
   * shell has someone attached, the owner's request closes an editor's oldest shell instead, and
   * only when none of those is left is the request refused.
   */
  async open(size: { cols: number; rows: number }, openedBy: TerminalOpener): Promise<TerminalSession> {
    while (this.sessions.size >= this.limits.max) {
      const room = this.makeRoomFor(openedBy);
      if (room === undefined) {
        throw new NixSpaceError(
          'CONFLICT',
          `All ${this.limits.max} terminals of this workspace are in use (each has a tab attached); close one first`,
        );
      }
      this.close(room);
    }
    const process = await AgentProcess.spawn(this.agent, {
      id: `terminal-${openedBy}-${randomUUID()}`,
      argv: this.shell.argv,
      cwd: this.shell.cwd,
      env: this.shell.env,
      tty: {
        cols: Math.max(2, Math.min(1000, Math.floor(size.cols))),
        rows: Math.max(1, Math.min(500, Math.floor(size.rows))),
      },
      output: { mode: 'ring', bytes: SCROLLBACK_BYTES },
    });
    return this.add(process, openedBy);
  }

  private add(process: AgentProcess, openedBy: TerminalOpener): TerminalSession {
    const session = new TerminalSession(process, (closed) => this.sessions.delete(closed.id), openedBy, {
      ms: this.limits.detachedIdleMs,
      onIdle: (idle) => this.close(idle),
    });
    this.sessions.set(session.id, session);
    for (const watcher of [...this.watchers]) watcher.opened(session);
    return session;
  }

  /** Ends one shell now; its attached clients are told it exited. */
  close(session: TerminalSession): void {
    this.sessions.delete(session.id);
    session.kill();
  }

  private makeRoomFor(openedBy: TerminalOpener): TerminalSession | undefined {
    const sessions = this.list();
    const detached = sessions
      .filter((session) => !session.attached)
      .sort((a, b) => (a.detachedSince ?? 0) - (b.detachedSince ?? 0));
    if (detached[0]) return detached[0];
    // Share-link editors cannot lock the owner out: their oldest shell goes first.
    return openedBy === 'owner' ? sessions.find((session) => session.openedBy !== 'owner') : undefined;
  }

  closeAll(): void {
    for (const session of this.sessions.values()) session.kill();
    this.sessions.clear();
    for (const watcher of [...this.watchers]) watcher.closed();
    this.watchers.clear();
  }

  /** This server lets go of every shell; the agent keeps them for the next. */
  releaseAll(): void {
    for (const session of this.sessions.values()) session.release();
    this.sessions.clear();
    this.watchers.clear();
  }
}

/** A shell's exit as a terminal reports it: its code, or 128 + the signal that ended it. */
function exitCodeOf(exit: ProcessExit): number {
  if (exit.code !== null) return exit.code;
  const signal = exit.signal ? constants.signals[exit.signal as NodeJS.Signals] : undefined;
  return signal === undefined ? 1 : 128 + signal;
}
