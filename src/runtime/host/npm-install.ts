// Machine-wide trees of npm packages (code-server and the Node it runs on, pinned Node, pnpm and
// yarn releases), each installed once: npm installs into a staging directory beside the final
// one, a marker is written last, and the finished tree is renamed into place, so a half-done
// install is never used and two processes installing at once cannot corrupt each other's result.

import { spawn } from 'node:child_process';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { type ErrorCode, NixSpaceError } from '../../errors.js';

/** A package.json whose dependencies are the packages to install; their install scripts may run. */
export async function writeNpmPackage(
  prefix: string,
  dependencies: Record<string, string>,
  allowScripts: readonly string[] = Object.keys(dependencies),
): Promise<void> {
  await mkdir(prefix, { recursive: true });
  await writeFile(
    join(prefix, 'package.json'),
    `${JSON.stringify(
      {
        private: true,
        dependencies,
        allowScripts: Object.fromEntries(allowScripts.map((name) => [name, true] as const)),
      },
      null,
      2,
    )}\n`,
  );
}

export interface NpmRunOptions {
  /** Variables over the server's own (PATH, npm_config_*). */
  env?: Record<string, string>;
  onLog?(line: string): void;
  signal?: AbortSignal | undefined;
  /** The code a failure is reported with. */
  failure: ErrorCode;
  /** Whether stdout lines are log lines too (not for `npm view --json`, whose stdout is the answer). */
  logStdout?: boolean;
}

/** Runs npm with its output streamed line by line; a failure names the package that broke. */
export function runNpm(args: readonly string[], cwd: string, options: NpmRunOptions): Promise<string> {
  options.signal?.throwIfAborted();
  const log = options.onLog ?? (() => {});
  return new Promise((resolve, reject) => {
    const child = spawn('npm', [...args, '--no-update-notifier'], {
      cwd,
      env: { ...process.env, ...options.env },
      stdio: ['ignore', 'pipe', 'pipe'],
      ...(options.signal ? { signal: options.signal } : {}),
    });
    const tail: string[] = [];
    const stdout: string[] = [];
    const onLine = (line: string) => {
      if (line.trim() === '' || line.includes('Unknown env config') || line.includes('Unknown user config'))
        return;
      tail.push(line);
      if (tail.length > 30) tail.shift();
      log(line);
    };
    createInterface({ input: child.stdout }).on('line', (line) => {
      stdout.push(line);
      if (options.logStdout !== false) onLine(line);
    });
    createInterface({ input: child.stderr }).on('line', onLine);
    child.once('error', (error) =>
      reject(
        options.signal?.aborted
          ? options.signal.reason
          : new NixSpaceError(options.failure, `cannot run npm: ${error.message}`, { cause: error }),
      ),
    );
    child.once('close', (code) => {
      if (code === 0) return resolve(stdout.join('\n'));
      const failed = /npm error path \S*node_modules\/((?:@[^/\s]+\/)?[^/\s]+)/.exec(tail.join('\n'))?.[1];
      reject(
        new NixSpaceError(
          options.failure,
          `npm ${args[0]} could not ${failed ? `install the package ${failed}` : `finish in ${cwd}`} (exit code ${code})`,
          { detail: tail.slice(-15).join('\n') },
        ),
      );
    });
  });
}

/** `npm install` of the package.json in `prefix`, with npm's progress as log lines. */
export async function npmInstall(prefix: string, options: NpmRunOptions): Promise<void> {
  await runNpm(['install', '--no-audit', '--no-fund'], prefix, options);
}

/** Reads the marker a finished tree ends with; undefined when the tree is absent or incomplete. */
export async function readInstallMarker<T extends object>(root: string): Promise<T | undefined> {
  try {
    return JSON.parse(await readFile(join(root, 'installed.json'), 'utf8')) as T;
  } catch {
    return undefined;
  }
}

/**
 * Builds `root` once: `build` fills a staging directory beside it, the marker is written last and
 * the staging directory is renamed to `root`. When another process renamed its own first, that
 * one is kept (`complete` says whether it is usable).
 */
export async function buildTreeOnce(options: {
  root: string;
  marker: object;
  build(staging: string): Promise<void>;
  complete(): Promise<boolean>;
}): Promise<void> {
  const parent = dirname(options.root);
  await mkdir(parent, { recursive: true });
  const staging = join(parent, `.staging-${basename(options.root)}-${process.pid}-${Date.now()}`);
  try {
    await options.build(staging);
    await writeFile(
      join(staging, 'installed.json'),
      `${JSON.stringify({ ...options.marker, at: new Date().toISOString() })}\n`,
    );
    try {
      await rename(staging, options.root);
    } catch (error) {
      // Another process finished first; its tree is as good as ours.
      if (!(await options.complete())) throw error;
    }
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
}
