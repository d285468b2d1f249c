// How a job's command runs: one interface, one implementation per place and manner (a pipe or a
// PTY inside a workspace sandbox, or a remote host over SSH), all held to one shared test suite.

import type { JobType } from '../../../wire/jobs.js';

export type OutputStream = 'stdout' | 'stderr';

export interface StrategyCapabilities {
  /** stdout and stderr arrive apart (a terminal merges them). */
  separateStderr: boolean;
  /** The command sees a terminal, so it may colour its output. */
  terminal: boolean;
}

export interface CommandSpec {
  /** The job's id, where the strategy names what it runs after it (the agent's process). */
  id?: string;
  /** A shell command line (run with bash locally, the login shell remotely). */
  command: string;
  /** Working directory; absolute, or relative to the strategy's default. */
  cwd?: string | undefined;
}

export interface CommandExit {
  exitCode: number | null;
  signal: string | null;
}

export interface RunningCommand {
  /** Settles once the command has ended and all its output has been handed over. */
  readonly done: Promise<CommandExit>;
  /**
   * SIGTERM to every process of the command (its cgroup where the sandbox keeps one, so setsid'd
   * and double-forked children too; else its process tree), then SIGKILL to what is left after the
   * grace period. Resolves with what was signalled, in words; `done` follows within moments, even
   * if a process out of reach still holds the output open.
   */
  cancel(graceMs: number): Promise<string[]>;
  /**
   * Where the command runs on without this server (the workspace agent keeps it): stops following
   * it and says where its output stood, for `ExecutionStrategy.resume` in the next server.
   */
  release?(): unknown;
}

export interface ExecutionStrategy {
  readonly type: JobType;
  readonly capabilities: StrategyCapabilities;
  /** Starts the command; rejects (NixSpaceError) when it cannot start at all. */
  start(
    spec: CommandSpec,
    onOutput: (stream: OutputStream, data: Buffer) => void,
    options?: { signal?: AbortSignal },
  ): Promise<RunningCommand>;
}
