// Finds the binaries of a backing service and chooses the version to run: the workspace's own
// (on its activation PATH, e.g. Nix-built) first, then the host's standard locations. A version the
// host lacks is not fatal: the closest available one runs and the mismatch is reported.
import { access, constants, readdir, realpath } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { Sandbox } from '../../../runtime/sandbox.js';
import { execInSandbox } from '../../../runtime/sandbox-exec.js';
import type { BackingService } from './backing-service.js';

export interface ServiceBinary {
  program: string;
  binDir: string;
  version: string;
  /** Found on the workspace's PATH rather than in a host location. */
  fromPath: boolean;
}

const systemPath = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/** Every distinct copy of the service's program, PATH ones first, each with its version. */
export async function locateBinaries(
  service: BackingService,
  options: { sandbox: Sandbox; path: string | undefined; signal?: AbortSignal },
): Promise<ServiceBinary[]> {
  const pathDirs = (options.path ?? systemPath).split(':').filter((dir) => dir.startsWith('/'));
  const found: { program: string; real: string; fromPath: boolean }[] = [];
  const seen = new Set<string>();
  const consider = async (dir: string, fromPath: boolean) => {
    const program = join(dir, service.program);
    try {
      await access(program, constants.X_OK);
      const real = await realpath(program);
      if (seen.has(real)) return;
      seen.add(real);
      found.push({ program, real, fromPath });
    } catch {
      // not in this directory
    }
  };
  for (const dir of pathDirs) await consider(dir, true);
  for (const dir of await service.hostBinDirs()) await consider(dir, false);

  // The version comes from running the program, inside the sandbox: a PATH entry may be the
  // workspace's own file, which the host must never execute.
  const probed = await Promise.all(
    found.map(async ({ program, real, fromPath }) => {
      const result = await execInSandbox(options.sandbox, [program, ...service.versionArgs], {
        signal: options.signal,
        timeoutMs: 10_000,
      });
      const version = service.parseVersion(`${result.stdout}\n${result.stderr}`);
      // Sibling tools (initdb, redis-cli) live beside the real binary, not beside a symlink to it.
      return version === undefined ? undefined : { program, binDir: dirname(real), version, fromPath };
    }),
  );
  return probed.filter((binary) => binary !== undefined);
}

/** The numeric part of a wanted version: `16`, `v7.2`, `16-alpine` → `16`, `7.2`, `16`. */
function versionParts(version: string): string[] | undefined {
  const match = /(\d+(?:\.\d+)*)/.exec(version);
  return match?.[1]?.split('.');
}

/** True when `provided` is `wanted` or a release of it (`15` matches `15.18`). */
export function versionSatisfies(wanted: string, provided: string): boolean {
  const want = versionParts(wanted);
  const have = versionParts(provided);
  if (want === undefined || have === undefined) return false;
  return want.every((part, index) => Number(part) === Number(have[index]));
}

/**
 * The binary to run: the first that satisfies `wanted` (PATH first, then the host newest first);
 * failing that the workspace's own, then the host's newest. `mismatch` says the wish was not met.
 */
export function chooseBinary(
  binaries: readonly ServiceBinary[],
  wanted: string | null,
): { binary: ServiceBinary; mismatch: boolean } | undefined {
  if (wanted !== null) {
    const satisfying = binaries.find((binary) => versionSatisfies(wanted, binary.version));
    if (satisfying !== undefined) return { binary: satisfying, mismatch: false };
  }
  const fallback = binaries.find((binary) => binary.fromPath) ?? newest(binaries);
  return fallback === undefined ? undefined : { binary: fallback, mismatch: wanted !== null };
}

function newest(binaries: readonly ServiceBinary[]): ServiceBinary | undefined {
  return [...binaries].sort((a, b) => compareVersions(b.version, a.version))[0];
}

export function compareVersions(a: string, b: string): number {
  const x = versionParts(a) ?? [];
  const y = versionParts(b) ?? [];
  for (let i = 0; i < Math.max(x.length, y.length); i++) {
    const diff = Number(x[i] ?? 0) - Number(y[i] ?? 0);
    if (diff !== 0) return diff;
  }
  return 0;
}

/** Subdirectories of `root` matching `<version>/bin`, newest first (Debian's /usr/lib/postgresql). */
export async function versionedBinDirs(root: string): Promise<string[]> {
  const entries = await readdir(root).catch(() => []);
  return entries
    .filter((entry) => /^\d+(\.\d+)*$/.test(entry))
    .sort((a, b) => compareVersions(b, a))
    .map((entry) => join(root, entry, 'bin'));
}
