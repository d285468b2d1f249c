// Which release of Node, pnpm or yarn the npm registry should supply for a spec: the newest one
// that satisfies what the repository asked for (a pin, a line, an engines range) inside the line
// detection chose, so the host provider fetches what the Nix provider would have built.

import type { PackageManager, Toolchain } from '../detect/env-spec.js';
import { compareVersions, parseVersion, versionsAgree } from '../detect/versions.js';
import { versionMatches } from './version-probe.js';

export type RegistryTool = 'node' | 'pnpm' | 'yarn';

/** What to fetch: the tool, its npm package, and which of the package's versions will do. */
export interface RegistryWant {
  tool: RegistryTool;
  /** The npm package that carries it: `node`, `pnpm`, `yarn` (1.x), `@yarnpkg/cli-dist` (2+). */
  npmName: string;
  accepts(version: string): boolean;
  /** What was asked for, for messages: `22`, `>=22`, `9.15.0`, `any`. */
  asked: string;
}

/** A Node toolchain: its pin or range, within the line detection resolved it to. */
export function nodeWant(toolchain: Toolchain): RegistryWant {
  const wanted = {
    name: 'node',
    version: toolchain.version,
    requested: toolchain.requested,
    resolution: toolchain.resolution,
  };
  return {
    tool: 'node',
    npmName: 'node',
    accepts: (version) => versionsAgree(toolchain.version, version) && versionMatches(wanted, version),
    asked: toolchain.requested ?? toolchain.version,
  };
}

/**
 * pnpm or yarn as `packageManager` pins it. Unpinned, only yarn classic (its 1.x line runs on
 * every Node): the newest pnpm or yarn berry may need a newer Node than the one that runs it.
 */
export function packageManagerWant(pm: PackageManager): RegistryWant | undefined {
  if (pm.name !== 'pnpm' && pm.name !== 'yarn') return undefined;
  const berry =
    pm.name === 'yarn' &&
    (pm.variant === 'berry' || (pm.version !== undefined && (parseVersion(pm.version)?.[0] ?? 1) >= 2));
  const line = pm.version ?? (pm.name === 'yarn' && !berry ? '1' : undefined);
  if (line === undefined) return undefined;
  return {
    tool: pm.name,
    npmName: berry ? '@yarnpkg/cli-dist' : pm.name,
    accepts: (version) => versionsAgree(line, version),
    asked: pm.version ?? 'any',
  };
}

/** The newest stable release the predicate accepts (prereleases such as `25.0.0-rc.1` never). */
export function newestRelease(versions: readonly string[], accepts: (version: string) => boolean) {
  let best: { raw: string; parsed: number[] } | undefined;
  for (const raw of versions) {
    if (!/^\d+\.\d+\.\d+$/.test(raw) || !accepts(raw)) continue;
    const parsed = parseVersion(raw);
    if (parsed && (!best || compareVersions(parsed, best.parsed) > 0)) best = { raw, parsed };
  }
  return best?.raw;
}
