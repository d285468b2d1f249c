// Commands that want a terminal (colours, progress bars, prompts) inside a workspace: a terminal of
// the workspace agent's own (agent-job.ts), which merges stderr into stdout.
//
// When the last process on a PTY exits, Linux may drop what is still in the terminal's buffer
// before the server read it (node-pty#72): a command that ends right after a burst of output lost
// its last kilobytes. So the command runs under a small shell that, once it is done, prints a
// marker (an OSC sequence with a per-job nonce) and waits for the server to answer: output is in
// order, so when the server reads the marker it has read everything before it, and only then does
// the last process leave the terminal. The marker and what follows it never reach the job's log.

import { randomBytes, randomUUID } from 'node:crypto';
import { type AgentJobHooks, type AgentJobResume, resumeAgentJob, startAgentJob } from './agent-job.js';
import type { CommandSpec, ExecutionStrategy, OutputStream, RunningCommand } from './execution-strategy.js';
import { jobGroupName } from './job-group.js';
import type { SandboxShell } from './local-stream-strategy.js';
import { resolveCwd } from './resolve-cwd.js';

/**
 * Runs `$1` with bash, prints the done marker with `$2` and the exit status, waits (at most 10 s)
 * for the server's answer, and ends as the command did: with its status, or by its signal. It
 * outlives a cancel's SIGTERM until the command has ended (a no-op trap, which, unlike an ignored
 * signal, the command does not inherit), so the command's own handlers run with its terminal open.
 */
const DRAIN_WRAPPER = [
  "trap ':' TERM INT HUP",
  '/bin/bash -c "$1"',
  'rc=$?',
  'printf "\\033]777;nixspace-done-%s;%s\\007" "$2" "$rc"',
  'IFS= read -r -t 10 _',
  'if [ "$rc" -gt 128 ] && [ "$rc" -lt 160 ]; then trap - "$((rc - 128))"; kill -s "$((rc - 128))" "$$"; fi',
  'exit "$rc"',
].join('; ');

export class TerminalSpawnStrategy implements ExecutionStrategy {
  readonly type = 'terminal' as const;
  readonly capabilities = { separateStderr: false, terminal: true };

  constructor(
    private readonly shell: () => SandboxShell,
    private readonly size = { cols: 120, rows: 40 },
  ) {}

  async start(
    spec: CommandSpec,
    onOutput: (stream: OutputStream, data: Buffer) => void,
  ): Promise<RunningCommand> {
    const shell = this.shell();
    const nonce = randomBytes(8).toString('hex');
    return startAgentJob(
      shell.sandbox,
      {
        id: `job-${spec.id ?? randomUUID()}`,
        argv: ['/bin/bash', '-c', DRAIN_WRAPPER, 'nixspace-job', spec.command, nonce],
        cwd: resolveCwd(shell.cwd, spec.cwd),
        env: { ...shell.env, TERM: 'xterm-256color', COLORTERM: 'truecolor' },
        tty: this.size,
        group: jobGroupName(),
      },
      hooks(nonce, onOutput),
    );
  }

  async resume(
    resume: AgentJobResume,
    onOutput: (stream: OutputStream, data: Buffer) => void,
  ): Promise<RunningCommand | undefined> {
    if (resume.nonce === undefined) return undefined;
    return resumeAgentJob(this.shell().sandbox, resume, hooks(resume.nonce, onOutput));
  }
}

function hooks(nonce: string, onOutput: (stream: OutputStream, data: Buffer) => void): AgentJobHooks {
  const marker = new DoneMarker(nonce);
  return {
    streams: ['stdout'],
    nonce,
    onData: (_stream, data, process) => {
      const chunk = marker.take(data);
      if (chunk.length > 0) onOutput('stdout', chunk);
      // Everything before the marker is read: let the wrapper go.
      if (marker.seen && !marker.answered) {
        marker.answered = true;
        process.write('\r');
      }
    },
    // Ended without its marker (killed): what was held back as a possible marker is output.
    onEnd: () => {
      const rest = marker.flush();
      if (rest.length > 0) onOutput('stdout', rest);
    },
    toExit: (exit) =>
      exit.signal ? { exitCode: null, signal: exit.signal } : { exitCode: exit.code, signal: null },
  };
}

/** Finds the done marker in the output stream, holding back a partial one split across chunks. */
class DoneMarker {
  readonly #prefix: Buffer;
  #held: Buffer = Buffer.alloc(0);
  seen = false;
  answered = false;

  constructor(nonce: string) {
    this.#prefix = Buffer.from(`\x1b]777;nixspace-done-${nonce};`);
  }

  flush(): Buffer {
    const held = this.#held;
    this.#held = Buffer.alloc(0);
    return held;
  }

  /** The part of `data` that is the command's output. */
  take(data: Buffer): Buffer {
    if (this.seen) return Buffer.alloc(0);
    const buffer = this.#held.length ? Buffer.concat([this.#held, data]) : data;
    this.#held = Buffer.alloc(0);
    const at = buffer.indexOf(this.#prefix);
    if (at >= 0) {
      this.seen = true;
      return buffer.subarray(0, at);
    }
    // Keep back a tail that could be the start of the marker.
    for (let keep = Math.min(this.#prefix.length - 1, buffer.length); keep > 0; keep--) {
      if (buffer.subarray(buffer.length - keep).equals(this.#prefix.subarray(0, keep))) {
        this.#held = Buffer.from(buffer.subarray(buffer.length - keep));
        return buffer.subarray(0, buffer.length - keep);
      }
    }
    return buffer;
  }
}
