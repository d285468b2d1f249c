// Non-interactive commands inside a workspace, over pipes: stdout and stderr stay apart. The
// workspace agent runs them (agent-job.ts), so they run on through a server restart.

import { randomUUID } from 'node:crypto';
import type { Sandbox } from '../../../runtime/sandbox.js';
import { type AgentJobHooks, type AgentJobResume, resumeAgentJob, startAgentJob } from './agent-job.js';
import type { CommandSpec, ExecutionStrategy, OutputStream, RunningCommand } from './execution-strategy.js';
import { jobGroupName } from './job-group.js';
import { resolveCwd } from './resolve-cwd.js';

export interface SandboxShell {
  sandbox: Sandbox;
  /** Default working directory (the repository) and the workspace's environment. */
  cwd: string;
  env: Record<string, string>;
}

export class LocalStreamStrategy implements ExecutionStrategy {
  readonly type = 'stream' as const;
  readonly capabilities = { separateStderr: true, terminal: false };

  constructor(private readonly shell: () => SandboxShell) {}

  async start(
    spec: CommandSpec,
    onOutput: (stream: OutputStream, data: Buffer) => void,
  ): Promise<RunningCommand> {
    const shell = this.shell();
    return startAgentJob(
      shell.sandbox,
      {
        id: `job-${spec.id ?? randomUUID()}`,
        argv: ['/bin/bash', '-c', spec.command],
        cwd: resolveCwd(shell.cwd, spec.cwd),
        env: shell.env,
        group: jobGroupName(),
      },
      hooks(onOutput),
    );
  }

  async resume(
    resume: AgentJobResume,
    onOutput: (stream: OutputStream, data: Buffer) => void,
  ): Promise<RunningCommand | undefined> {
    return resumeAgentJob(this.shell().sandbox, resume, hooks(onOutput));
  }
}

function hooks(onOutput: (stream: OutputStream, data: Buffer) => void): AgentJobHooks {
  return {
    streams: ['stdout', 'stderr'],
    onData: (stream, data) => onOutput(stream, data),
    toExit: (exit) => ({ exitCode: exit.code, signal: exit.signal }),
  };
}
