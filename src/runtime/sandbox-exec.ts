// Runs a short program inside a sandbox, through its agent, and collects its output: version
// probes, initialisation and readiness checks of backing services, git on the checkout, install
// scripts. They run there, never on the host, because the binaries may come from the workspace
// (its activation PATH) and the files they touch are the workspace's.
import { type AgentRun, type AgentRunOptions, runInAgent } from './agent/agent-run.js';
import { userNamespaceArgv } from './host/user-namespace.js';
import type { Sandbox } from './sandbox.js';

export interface ExecOptions extends Pick<AgentRunOptions, 'signal' | 'input' | 'group' | 'onLine'> {
  /** Absolute, inside the sandbox; default the workspace directory. */
  cwd?: string;
  /** Over the sandbox's own environment (its spec's), never the server's. */
  env?: Record<string, string>;
  /**
   * Where the sandbox runs programs as root (a driver without isolation, under a root server), runs
   * this one as the given non-root uid/gid instead, for programs that refuse root (postgres): a
   * user namespace maps the server's user to it. Ignored where every program already runs as the
   * unprivileged workspace user (Sandbox.unprivileged).
   */
  user?: { uid: number; gid: number } | undefined;
  /** Kills the program after this long and resolves with code null (default 60 s). */
  timeoutMs?: number;
  /** Keeps at most about this much of each of stdout and stderr (default 64 KiB). */
  maxOutputBytes?: number;
}

export type ExecResult = AgentRun;

export function execInSandbox(
  sandbox: Sandbox,
  argv: readonly string[],
  options: ExecOptions = {},
): Promise<ExecResult> {
  const { user, timeoutMs = 60_000, maxOutputBytes = 64 * 1024, cwd, env, ...run } = options;
  const asUser = user !== undefined && !sandbox.unprivileged ? userNamespaceArgv(user) : [];
  return runInAgent(sandbox.agent, [...asUser, ...argv], {
    ...run,
    cwd: cwd ?? sandbox.workspaceDir,
    env: sandbox.env(env),
    timeoutMs,
    maxBytes: maxOutputBytes,
  });
}
