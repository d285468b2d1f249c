// Terminal sessions of one workspace: PTY shells started inside its sandbox. A session outlives
// the browser tab that opened it, keeps recent output, and replays it when a tab reattaches.

import { randomUUID } from 'node:crypto';
import * as pty from 'node-pty';
import { NixSpaceError } from '../../errors.js';
import type { Sandbox } from '../../runtime/sandbox.js';
import type { TerminalOpener } from '../../wire/terminal.js';

const SCROLLBACK_BYTES = 256 * 1024;
const MAX_TERMINALS_PER_WORKSPACE = 32;

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

  constructor(
    private readonly process: pty.IPty,
    private readonly onClosed: (session: TerminalSession) => void,
    /** Who opened it: what a viewer is told it watches. */
    readonly openedBy: TerminalOpener,
  ) {
    process.onData((data) => {
      this.remember(data);
      for (const client of this.clients) client.onData(data);
    });
    process.onExit(({ exitCode }) => {
      this.exitCode = exitCode;
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

  /** Attaches a viewer: it first receives the kept output, then everything new. */
  attach(client: TerminalClient): { replay: string; detach(): void } {
    this.clients.add(client);
    return { replay: this.scrollback.join(''), detach: () => this.clients.delete(client) };
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
    if (!this.exited) this.process.kill('SIGKILL');
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

  constructor(
    private readonly sandbox: Sandbox,
    private readonly shell: TerminalShell,
  ) {}

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

  open(size: { cols: number; rows: number }, openedBy: TerminalOpener): TerminalSession {
    if (this.sessions.size >= MAX_TERMINALS_PER_WORKSPACE) {
      throw new NixSpaceError(
        'CONFLICT',
        `This workspace already has ${MAX_TERMINALS_PER_WORKSPACE} open terminals; close one first`,
      );
    }
    const command = this.sandbox.command(this.shell.argv, { cwd: this.shell.cwd, env: this.shell.env });
    const child = pty.spawn(command.file, command.args, {
      name: 'xterm-256color',
      cols: Math.max(2, Math.floor(size.cols)),
      rows: Math.max(1, Math.floor(size.rows)),
      cwd: command.cwd,
      env: command.env,
    });
    const session = new TerminalSession(child, (closed) => this.sessions.delete(closed.id), openedBy);
    this.sessions.set(session.id, session);
    for (const watcher of [...this.watchers]) watcher.opened(session);
    return session;
  }

  closeAll(): void {
    for (const session of this.sessions.values()) session.kill();
    this.sessions.clear();
    for (const watcher of [...this.watchers]) watcher.closed();
    this.watchers.clear();
  }
}
