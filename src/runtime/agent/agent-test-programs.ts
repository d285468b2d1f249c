// Programs of a sandbox under test, started through its agent as every program of a workspace is:
// one run to its end, a long-running one followed to its first line of output, an interactive one
// on a terminal of the agent's. The conformance suites use them for every driver; a test keeps the
// programs it started in one TestPrograms and forgets (kills) them all in its teardown.
import { randomBytes } from 'node:crypto';
import { StringDecoder } from 'node:string_decoder';
import type { Sandbox } from '../sandbox.js';
import { type ExecOptions, type ExecResult, execInSandbox } from '../sandbox-exec.js';
import { AgentProcess, type Following } from './agent-process.js';

/** How long a run or a first line may take before the test fails. */
const limitMs = 10_000;

/** Runs argv to its end in the sandbox; a program still running after 10 s fails the test. */
export async function runToEnd(
  sandbox: Sandbox,
  argv: readonly string[],
  options: ExecOptions = {},
): Promise<ExecResult> {
  const timeoutMs = options.timeoutMs ?? limitMs;
  const result = await execInSandbox(sandbox, argv, { ...options, timeoutMs });
  if (result.timedOut) {
    throw new Error(
      `${argv.join(' ')} still ran after ${timeoutMs} ms\nstdout: ${result.stdout.slice(-2000)}\nstderr: ${result.stderr.slice(-2000)}`,
    );
  }
  return result;
}

/** Resolves with the probe's first defined value; fails after `timeoutMs`. */
export async function waitFor<T>(
  probe: () => Promise<T | undefined>,
  what: string,
  timeoutMs = 5000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

export interface ProgramOptions {
  /** Absolute, inside the sandbox; default its workspace directory. */
  cwd?: string;
  /** Over the sandbox's own environment. */
  env?: Record<string, string>;
  /** A command group (child cgroup) of its own. */
  group?: string;
}

/** Resolves with the first stdout line of a program that runs on; fails if it ends first. */
export function firstLine(program: AgentProcess, timeoutMs = limitMs): Promise<string> {
  let stderr = '';
  const followers: Following[] = [];
  if (!program.tty) {
    followers.push(
      program.follow('stderr', 0, (data) => {
        if (stderr.length < 8192) stderr += data.toString('utf8');
      }),
    );
  }
  let timer: NodeJS.Timeout | undefined;
  let settled = false;
  return new Promise<string>((resolve, reject) => {
    timer = setTimeout(
      () => reject(new Error(`${program.id} printed no line within ${timeoutMs} ms: ${stderr}`)),
      timeoutMs,
    );
    const decoder = new StringDecoder('utf8');
    let out = '';
    const stdout = program.follow('stdout', 0, (data) => {
      out += decoder.write(data);
      const newline = out.indexOf('\n');
      if (newline >= 0) resolve(out.slice(0, newline));
    });
    followers.push(stdout);
    void stdout.done.then(async () => {
      if (settled) return;
      const exit = await program.exited;
      reject(
        new Error(`${program.id} ended (${exit.code ?? exit.signal}) before printing a line: ${stderr}`),
      );
    });
  }).finally(() => {
    settled = true;
    clearTimeout(timer);
    for (const follower of followers) follower.stop();
  });
}

/** A program on a terminal of the agent's, with what it has shown so far. */
export interface PtyProgram {
  readonly process: AgentProcess;
  /** Everything printed on the terminal so far. */
  screen(): string;
  /** Types keys (end a line with '\r', as a terminal does). */
  write(keys: string): void;
  /** Resolves once the agent has resized the terminal. */
  resize(cols: number, rows: number): Promise<void>;
  /** Resolves once the screen matches `pattern`. */
  shows(pattern: RegExp, what: string): Promise<void>;
  /** Its exit code (null if a signal ended it). */
  exitCode(): Promise<number | null>;
}

/** The programs one test (or suite) started through agents; `forgetAll` kills what is left. */
export class TestPrograms {
  readonly #started = new Set<AgentProcess>();

  /** Starts a long-running program over pipes (its output kept in a ring). */
  async spawn(
    sandbox: Sandbox,
    argv: readonly string[],
    options: ProgramOptions = {},
  ): Promise<AgentProcess> {
    const program = await AgentProcess.spawn(sandbox.agent, {
      id: uniqueId('program'),
      argv: [...argv],
      cwd: options.cwd ?? sandbox.workspaceDir,
      env: sandbox.env(options.env),
      output: { mode: 'ring', bytes: 256 * 1024 },
      ...(options.group !== undefined ? { group: options.group } : {}),
    });
    this.#started.add(program);
    return program;
  }

  /** Starts argv on a terminal of its own (80×24 unless told). */
  async pty(
    sandbox: Sandbox,
    argv: readonly string[],
    options: { env?: Record<string, string>; cols?: number; rows?: number } = {},
  ): Promise<PtyProgram> {
    const program = await AgentProcess.spawn(sandbox.agent, {
      id: uniqueId('pty'),
      argv: [...argv],
      cwd: sandbox.workspaceDir,
      env: sandbox.env(options.env),
      tty: { cols: options.cols ?? 80, rows: options.rows ?? 24 },
      output: { mode: 'ring', bytes: 1024 * 1024 },
    });
    this.#started.add(program);
    const decoder = new StringDecoder('utf8');
    let screen = '';
    program.follow('stdout', 0, (data) => {
      screen += decoder.write(data);
    });
    return {
      process: program,
      screen: () => screen,
      write: (keys) => program.write(keys),
      resize: async (cols, rows) => {
        await (await sandbox.agent.connected()).resize(program.id, cols, rows);
      },
      shows: async (pattern, what) => {
        await waitFor(async () => (pattern.test(screen) ? true : undefined), `${what} on the terminal`).catch(
          (error: Error) => {
            throw new Error(`${error.message}; the screen:\n${screen.slice(-2000)}`);
          },
        );
      },
      exitCode: async () => (await program.exited).code,
    };
  }

  /** Kills and forgets every program still known (those of a stopped sandbox are gone already). */
  async forgetAll(): Promise<void> {
    const started = [...this.#started];
    this.#started.clear();
    await Promise.all(started.map((program) => program.forget().catch(() => undefined)));
  }
}

function uniqueId(kind: string): string {
  return `test-${kind}-${randomBytes(6).toString('hex')}`;
}
