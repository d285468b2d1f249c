// Runs a bash script inside a workspace sandbox (an install's) and hands its output over line by
// line; resolves with its exit code. An abort kills it, and everything it started, and rejects.
import type { Sandbox } from '../../runtime/sandbox.js';
import { execInSandbox } from '../../runtime/sandbox-exec.js';

/** Longer than any install should take: one still running then is killed. */
const scriptTimeoutMs = 6 * 3600_000;

export async function runScript(
  sandbox: Sandbox,
  script: string,
  options: {
    cwd: string;
    env: Record<string, string>;
    onLine(line: string): void;
    signal?: AbortSignal | undefined;
  },
): Promise<number> {
  const run = await execInSandbox(sandbox, ['/bin/bash', '-eo', 'pipefail', '-c', script], {
    cwd: options.cwd,
    env: options.env,
    signal: options.signal,
    onLine: (line) => options.onLine(line),
    timeoutMs: scriptTimeoutMs,
    maxOutputBytes: 64 * 1024,
  });
  return run.code ?? 128;
}
