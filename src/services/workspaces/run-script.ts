// Runs a bash script inside a workspace sandbox and hands its output over line by line.

import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import type { Sandbox } from '../../runtime/sandbox.js';

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
  const command = sandbox.command(['/bin/bash', '-eo', 'pipefail', '-c', script], {
    cwd: options.cwd,
    env: options.env,
  });
  const child = spawn(command.file, command.args, {
    cwd: command.cwd,
    env: command.env,
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  const abort = () => {
    if (child.pid) {
      try {
        process.kill(-child.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  };
  options.signal?.addEventListener('abort', abort, { once: true });
  for (const stream of [child.stdout, child.stderr]) {
    createInterface({ input: stream, crlfDelay: Number.POSITIVE_INFINITY }).on('line', (line) =>
      options.onLine(line),
    );
  }
  try {
    return await new Promise<number>((resolve, reject) => {
      child.once('error', reject);
      child.once('close', (code, signal) => resolve(code ?? (signal ? 128 : 1)));
    });
  } finally {
    options.signal?.removeEventListener('abort', abort);
  }
}
