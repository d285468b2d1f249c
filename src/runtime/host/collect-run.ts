// Runs a program to completion and collects what it prints, for the suites that check what really
// happened inside a sandbox. A program still running after the time limit is killed, and the run
// fails with what it printed so far.
import { spawn } from 'node:child_process';

export interface CollectedRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export function collectRun(
  file: string,
  args: readonly string[],
  options: {
    env?: Record<string, string>;
    cwd?: string;
    stdio?: ('ignore' | 'pipe' | number)[];
    timeoutMs?: number;
  } = {},
): Promise<CollectedRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, {
      env: options.env,
      cwd: options.cwd,
      stdio: options.stdio ?? ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
    });
    child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk;
    });
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${file} timed out; stdout: ${stdout}; stderr: ${stderr}`));
    }, options.timeoutMs ?? 30_000);
    child.once('error', reject);
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}
