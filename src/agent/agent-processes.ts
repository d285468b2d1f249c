// The processes the agent runs for the server: terminals (on a pty of the agent's own), jobs and
// services (over pipes). Each is kept under the id the server gave it, with its output by byte
// offset and its exit, until the server forgets it, so a server that restarted finds every one.
import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import { constants } from 'node:os';
import { join } from 'node:path';
import * as pty from 'node-pty';
import type { z } from 'zod';
import type {
  AgentOutputStream,
  AgentSignal,
  ProcessExit,
  ProcessInfo,
  SignalScope,
  spawnRequest,
} from '../wire/agent.js';
import { OutputBuffer } from './output-buffer.js';

type Spawn = z.output<typeof spawnRequest>;

/** How many ended processes are remembered for a server that has not asked yet. */
const keptExits = 1024;

export class AgentProcessError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

interface Running {
  readonly id: string;
  readonly pid: number;
  readonly tty: boolean;
  readonly startedAt: string;
  readonly output: { stdout: OutputBuffer; stderr?: OutputBuffer };
  readonly group: string | undefined;
  exit: ProcessExit | undefined;
  readonly exited: Promise<ProcessExit>;
  write(data: Buffer): void;
  endInput(): void;
  resize(cols: number, rows: number): void;
}

export class AgentProcesses {
  readonly #processes = new Map<string, Running>();

  /**
   * `cgroupRoots`: the workspace's cgroup directories (one per hierarchy), delegated to the
   * agent's user: a group's program joins a child of each.
   */
  constructor(private readonly cgroupRoots: readonly string[]) {}

  async spawn(request: Spawn): Promise<ProcessInfo> {
    if (this.#processes.has(request.id)) {
      throw new AgentProcessError(409, 'CONFLICT', `a process ${request.id} exists already`);
    }
    const argv = this.#inGroup(request.argv, request.group);
    const running = request.tty ? this.#spawnTty(request, argv) : await this.#spawnPipes(request, argv);
    this.#processes.set(request.id, running);
    this.#forgetOldExits();
    return describe(running);
  }

  get(id: string): Running {
    const running = this.#processes.get(id);
    if (!running) throw new AgentProcessError(404, 'NOT_FOUND', `no process ${id}`);
    return running;
  }

  info(id: string): ProcessInfo {
    return describe(this.get(id));
  }

  list(): ProcessInfo[] {
    return [...this.#processes.values()].map(describe);
  }

  output(id: string, stream: AgentOutputStream): OutputBuffer {
    const buffer = this.get(id).output[stream];
    if (!buffer) throw new AgentProcessError(404, 'NOT_FOUND', `process ${id} has no ${stream}`);
    return buffer;
  }

  signal(id: string, signal: AgentSignal, scope: SignalScope = 'group'): void {
    const running = this.get(id);
    if (running.exit && (running.group === undefined || scope === 'process')) return;
    for (const pid of scope === 'process' ? [running.pid] : this.#groupPids(running)) {
      try {
        process.kill(pid, signal);
      } catch {
        // gone already
      }
    }
  }

  forget(id: string): void {
    const running = this.get(id);
    if (!running.exit) this.signal(id, 'SIGKILL');
    this.#processes.delete(id);
  }

  /** The process group it leads, and every member of its cgroup (setsid'd children too). */
  #groupPids(running: Running): number[] {
    const pids = running.exit ? [] : [-running.pid];
    const root = this.cgroupRoots[0];
    if (running.group !== undefined && root !== undefined) {
      try {
        const procs = readFileSync(join(root, running.group, 'cgroup.procs'), 'utf8');
        for (const line of procs.split('\n')) if (/^\d+$/.test(line)) pids.push(Number(line));
      } catch {
        // no group (yet, or any more)
      }
    }
    return pids;
  }

  /** A group's program joins its cgroup before it runs, so all it starts stays inside. */
  #inGroup(argv: readonly string[], group: string | undefined): string[] {
    if (group === undefined || this.cgroupRoots.length === 0) return [...argv];
    const dirs = this.cgroupRoots.map((root) => join(root, group));
    for (const dir of dirs) mkdirSync(dir, { recursive: true });
    // The shell joins every group, then becomes the program (same pid): nothing runs outside.
    const join_ =
      'while [ "$1" != -- ]; do echo $$ > "$1/cgroup.procs" || exit 125; shift; done; shift; exec "$@"';
    return ['/bin/sh', '-c', join_, 'nixspace-group', ...dirs, '--', ...argv];
  }

  async #spawnPipes(request: Spawn, argv: string[]): Promise<Running> {
    const child = spawn(argv[0]!, argv.slice(1), {
      cwd: request.cwd,
      env: request.env,
      stdio: [request.stdin ? 'pipe' : 'ignore', 'pipe', 'pipe'],
      // Leads its own process group: a signal reaches all it started.
      detached: true,
    });
    await new Promise<void>((resolve, reject) => {
      child.once('spawn', resolve);
      child.once('error', (error) =>
        reject(new AgentProcessError(422, 'SPAWN_FAILED', `cannot start ${argv[0]}: ${error.message}`)),
      );
    });
    const stdout = new OutputBuffer(request.output.mode, request.output.bytes);
    const stderr = new OutputBuffer(request.output.mode, request.output.bytes);
    pump(child.stdout!, stdout);
    pump(child.stderr!, stderr);
    // Its end is when it exits; its output may stay open longer (a child it left holds it), and
    // each stream says when it closed.
    const exited = new Promise<ProcessExit>((resolve) => {
      child.once('exit', (code, signal) => {
        const final = { code, signal };
        running.exit = final;
        resolve(final);
      });
    });
    const running: Running = {
      id: request.id,
      pid: child.pid!,
      tty: false,
      startedAt: new Date().toISOString(),
      output: { stdout, stderr },
      group: request.group,
      exit: undefined,
      exited,
      write: (data) => child.stdin?.write(data),
      endInput: () => child.stdin?.end(),
      resize: () => undefined,
    };
    child.stdin?.on('error', () => undefined);
    return running;
  }

  #spawnTty(request: Spawn, argv: string[]): Running {
    const { cols, rows } = request.tty!;
    let child: pty.IPty;
    try {
      child = pty.spawn(argv[0]!, argv.slice(1), {
        name: request.env.TERM ?? 'xterm-256color',
        cols,
        rows,
        cwd: request.cwd,
        env: request.env,
        encoding: null,
      });
    } catch (error) {
      throw new AgentProcessError(422, 'SPAWN_FAILED', `cannot start ${argv[0]}: ${String(error)}`);
    }
    const stdout = new OutputBuffer(request.output.mode, request.output.bytes);
    // With no encoding node-pty hands over the bytes as they came.
    child.onData((data) => {
      if (!stdout.append(data as unknown as Buffer)) child.pause();
    });
    stdout.onDrain(() => child.resume());
    const exited = new Promise<ProcessExit>((resolve) => {
      child.onExit(({ exitCode, signal }) => {
        stdout.close();
        const final = { code: signal ? null : exitCode, signal: signal ? signalName(signal) : null };
        running.exit = final;
        resolve(final);
      });
    });
    const running: Running = {
      id: request.id,
      pid: child.pid,
      tty: true,
      startedAt: new Date().toISOString(),
      output: { stdout },
      group: request.group,
      exit: undefined,
      exited,
      write: (data) => child.write(data as unknown as string),
      endInput: () => undefined,
      resize: (c, r) => child.resize(c, r),
    };
    return running;
  }

  #forgetOldExits(): void {
    const ended = [...this.#processes.values()].filter((p) => p.exit !== undefined);
    for (const old of ended.slice(0, Math.max(0, ended.length - keptExits))) this.#processes.delete(old.id);
  }
}

function pump(stream: NodeJS.ReadableStream & { pause(): void; resume(): void }, buffer: OutputBuffer) {
  stream.on('data', (data: Buffer) => {
    if (!buffer.append(data)) stream.pause();
  });
  buffer.onDrain(() => stream.resume());
  stream.once('end', () => buffer.close());
  stream.once('error', () => buffer.close());
}

function signalName(signal: number): string {
  return Object.entries(constants.signals).find(([, n]) => n === signal)?.[0] ?? `SIG${signal}`;
}

function describe(running: Running): ProcessInfo {
  const range = (b: OutputBuffer) => ({ start: b.start, end: b.end, closed: b.closed });
  return {
    id: running.id,
    pid: running.pid,
    tty: running.tty,
    startedAt: running.startedAt,
    output: {
      stdout: range(running.output.stdout),
      ...(running.output.stderr ? { stderr: range(running.output.stderr) } : {}),
    },
    ...(running.exit ? { exit: running.exit } : {}),
  };
}
