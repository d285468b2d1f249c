// Node, pnpm and yarn releases from the npm registry, fetched once per machine into a shared
// cache (`<dir>/<tool>-<version>/`, built by buildTreeOnce) and shown to sandboxes read-only.
// The npm `node` package carries the real Node binary of every release, so a repository that
// asks for Node 22 gets Node 22 on a server whose own Node is 20, without Nix.

import { existsSync } from 'node:fs';
import { mkdir, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { NixSpaceError } from '../errors.js';
import {
  buildTreeOnce,
  npmInstall,
  readInstallMarker,
  runNpm,
  writeNpmPackage,
} from '../runtime/host/npm-install.js';
import { newestRelease, type RegistryTool, type RegistryWant } from './registry-releases.js';

/** A release in the cache: put `binDir` first on PATH and show `root` to the sandbox. */
export interface FetchedTool {
  tool: RegistryTool;
  version: string;
  root: string;
  binDir: string;
  /** False when it was already in the cache. */
  fetched: boolean;
  durationMs: number;
}

/** New releases come out every few weeks: an hour-old list of them is fresh enough. */
const releasesMaxAgeMs = 60 * 60 * 1000;

const programs: Record<RegistryTool, string> = { node: 'node', pnpm: 'pnpm', yarn: 'yarn' };

function binDir(tool: RegistryTool, root: string): string {
  // The `node` package's own bin is the real binary; pnpm's and yarn's are scripts npm links.
  return tool === 'node' ? join(root, 'node_modules', 'node', 'bin') : join(root, 'node_modules', '.bin');
}

export class RegistryToolchains {
  readonly dir: string;
  readonly #releases = new Map<string, { at: number; versions: Promise<string[]> }>();
  readonly #installing = new Map<string, Promise<FetchedTool>>();

  constructor(options: { dir: string }) {
    this.dir = options.dir;
  }

  root(tool: RegistryTool, version: string): string {
    return join(this.dir, `${tool}-${version}`);
  }

  /** The release, if it is complete in the cache. */
  async installed(tool: RegistryTool, version: string): Promise<string | undefined> {
    const root = this.root(tool, version);
    const marker = await readInstallMarker<{ version?: string }>(root);
    if (marker?.version !== version) return undefined;
    return existsSync(join(binDir(tool, root), programs[tool])) ? root : undefined;
  }

  /**
   * The newest release the registry has that the want accepts. Without an answer from the
   * registry, the newest acceptable release already in the cache; else the registry's error.
   */
  async resolve(want: RegistryWant, signal?: AbortSignal): Promise<string | undefined> {
    try {
      return newestRelease(await this.releases(want.npmName, signal), want.accepts);
    } catch (error) {
      const cached = await this.cachedVersions(want.tool);
      const version = newestRelease(cached, want.accepts);
      if (version !== undefined) return version;
      throw error;
    }
  }

  /** Fetches the release unless the cache has it; concurrent calls for one release share one fetch. */
  ensure(
    want: RegistryWant,
    version: string,
    options: { onLog?(line: string): void; signal?: AbortSignal | undefined } = {},
  ): Promise<FetchedTool> {
    const key = `${want.tool}-${version}`;
    let running = this.#installing.get(key);
    if (!running) {
      running = this.#ensure(want, version, options).finally(() => this.#installing.delete(key));
      this.#installing.set(key, running);
    }
    return running;
  }

  async #ensure(
    want: RegistryWant,
    version: string,
    options: { onLog?(line: string): void; signal?: AbortSignal | undefined },
  ): Promise<FetchedTool> {
    const started = performance.now();
    const done = (root: string, fetched: boolean): FetchedTool => ({
      tool: want.tool,
      version,
      root,
      binDir: binDir(want.tool, root),
      fetched,
      durationMs: Math.round(performance.now() - started),
    });
    const existing = await this.installed(want.tool, version);
    if (existing) return done(existing, false);
    const root = this.root(want.tool, version);
    options.onLog?.(`fetching ${want.npmName}@${version} from the npm registry into ${root}`);
    await buildTreeOnce({
      root,
      marker: { tool: want.tool, version, package: want.npmName },
      complete: async () => (await this.installed(want.tool, version)) !== undefined,
      build: async (staging) => {
        await writeNpmPackage(staging, { [want.npmName]: version });
        await npmInstall(staging, {
          failure: 'ENVIRONMENT_BUILD_FAILED',
          ...(options.onLog ? { onLog: options.onLog } : {}),
          signal: options.signal,
        });
        const program = join(binDir(want.tool, staging), programs[want.tool]);
        if (!existsSync(program)) {
          throw new NixSpaceError(
            'ENVIRONMENT_BUILD_FAILED',
            `npm installed ${want.npmName}@${version} without its ${programs[want.tool]} program`,
            { detail: `expected ${program}` },
          );
        }
      },
    });
    const installed = await this.installed(want.tool, version);
    if (!installed) {
      throw new NixSpaceError('ENVIRONMENT_BUILD_FAILED', `${want.tool} ${version} is incomplete in ${root}`);
    }
    return done(installed, true);
  }

  /** Every version the registry has of a package (asked again after an hour, or after a failure). */
  releases(npmName: string, signal?: AbortSignal): Promise<string[]> {
    const known = this.#releases.get(npmName);
    if (known && Date.now() - known.at < releasesMaxAgeMs) return known.versions;
    // Asked from the cache directory: no project .npmrc but the server's own can steer it.
    const asked = mkdir(this.dir, { recursive: true })
      .then(() =>
        runNpm(['view', npmName, 'versions', '--json'], this.dir, {
          failure: 'ENVIRONMENT_BUILD_FAILED',
          logStdout: false,
          signal,
        }),
      )
      .then((stdout) => {
        const parsed = JSON.parse(stdout) as unknown;
        return (Array.isArray(parsed) ? parsed : [parsed]).filter((v): v is string => typeof v === 'string');
      });
    // A failed answer is not kept: the next workspace asks again.
    asked.catch(() => this.#releases.delete(npmName));
    this.#releases.set(npmName, { at: Date.now(), versions: asked });
    return asked;
  }

  private async cachedVersions(tool: RegistryTool): Promise<string[]> {
    const names = await readdir(this.dir).catch(() => [] as string[]);
    return names.filter((name) => name.startsWith(`${tool}-`)).map((name) => name.slice(tool.length + 1));
  }
}
