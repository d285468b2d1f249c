// Runs the `nixspace` command as a person does: a real process over the sources (what
// bin/nixspace.js does with the compiled CLI), with its own environment and standard input.

import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = fileURLToPath(new URL('../..', import.meta.url));

const runMain = `const { main } = await import(${JSON.stringify(join(repoRoot, 'src/cli/main.ts'))});
process.exitCode = await main(process.argv.slice(1));`;

/** The node arguments that run `nixspace ARGS` (for spawning it in a pty). */
export function cliArgv(args: string[]): string[] {
  return ['--import', 'tsx', '--input-type=module', '--eval', runMain, '--', ...args];
}

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

export function runCli(
  args: string[],
  options: { env?: NodeJS.ProcessEnv; input?: string } = {},
): Promise<CliResult> {
  const child = spawn(process.execPath, cliArgv(args), {
    cwd: repoRoot,
    env: { ...process.env, ...options.env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    stdout += chunk;
  });
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk;
  });
  child.stdin.end(options.input ?? '');
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code, signal) => resolve({ code: code ?? (signal ? 128 : 1), stdout, stderr }));
  });
}
