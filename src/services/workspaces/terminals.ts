// Terminal sessions of one workspace: PTY shells started inside its sandbox. A session outlives
// the browser tab that opened it, keeps recent output, and replays it when a tab reattaches; one
// that nobody reattaches to is closed after an idle time. A workspace at its cap closes its
// longest-detached shell to open a new one, so the owner is never locked out by forgotten tabs.

import { randomUUID } from 'node:crypto';
import * as pty from 'node-pty';
import { NixSpaceError } from '../../errors.js';
import type { Sandbox } from '../../runtime/sandbox.js';
import type { TerminalOpener } from '../../wire/terminal.js';

const SCROLLBACK_BYTES = 256 * 1024;

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
  readonly id = randomUUID();
  readonly createdAt = new Date();
  private readonly clients = new Set<TerminalClient>();
  private scrollback: string[] = [];
  private scrollbackBytes = 0;
  private exitCode: number | undefined;
  private idleTimer: NodeJS.Timeout | undefined;
  /** When the last client left (or the shell opened, before anyone attached). */
  detachedSince: number | undefined = Date.now();

  constructor(
    private readonly process: pty.IPty,
    private readonly onClosed: (session: TerminalSession) => void,
    /** Who opened it: what a viewer is told it watches. */
    readonly openedBy: TerminalOpener,
    private readonly idle: { ms: number; onIdle(session: TerminalSession): void },
  ) {
    this.startIdleTimer();
    process.onData((data) => {
      this.remember(data);
      for (const client of this.clients) client.onData(data);
    });
    process.onExit(({ exitCode }) => {
      this.exitCode = exitCode;
      clearTimeout(this.idleTimer);
      for (const client of this.clients) client.onExit(exitCode);
      this.clients.clear();
      this.onClosed(this);
    });
  }

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
    if (!this.exited) this.process.kill('SIGKILL');
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
    private readonly sandbox: Sandbox,
    private readonly shell: TerminalShell,
    limits: TerminalLimits = {},
  ) {
    this.limits = { ...defaultTerminalLimits, ...limits };
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
  open(size: { cols: number; rows: number }, openedBy: TerminalOpener): TerminalSession {
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
    const command = this.sandbox.command(this.shell.argv, { cwd: this.shell.cwd, env: this.shell.env });
    const child = pty.spawn(command.file, command.args, {
      name: 'xterm-256color',
      cols: Math.max(2, Math.floor(size.cols)),
      rows: Math.max(1, Math.floor(size.rows)),
      cwd: command.cwd,
      env: command.env,
    });
    const session = new TerminalSession(child, (closed) => this.sessions.delete(closed.id), openedBy, {
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
}
