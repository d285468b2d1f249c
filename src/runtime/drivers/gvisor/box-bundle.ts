// A box's OCI bundle on the host, in the caller's root-only state directory:
//
//   boxes/<id>/config.json   the OCI config (oci-config.ts)
//   boxes/<id>/rootfs/       the read-only root: the /bin, /lib* links and empty mount points
//   boxes/<id>/etc/          the generated passwd and group, and the empty file secrets are masked with
//   boxes/<id>/box.json      what restoring needs besides the config (the sentry's flags)
//   boxes/<id>/console.log   the init's stdout and stderr, and runsc's own messages
//
// Everything a box needs after the server that started it has gone is in here or in runsc's state.
import { lstat, mkdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { NixSpaceError } from '../../../errors.js';
import { sandboxEnv } from '../../sandbox-env.js';
import { writeSandboxEtc } from '../bubblewrap/sandbox-etc.js';
import { rootMountPoints, systemLinks } from './box-mounts.js';
import type { GvisorBoxSpec } from './box-spec.js';
import { ociConfig } from './oci-config.js';
import type { BoxFlags } from './runsc-cli.js';

export interface BoxBundle {
  dir: string;
  logFile: string;
  flags: BoxFlags;
}

export function bundleDir(stateDir: string, id: string): string {
  return join(stateDir, 'boxes', id);
}

export function bundleLogFile(dir: string): string {
  return join(dir, 'console.log');
}

export async function writeBundle(stateDir: string, spec: GvisorBoxSpec): Promise<BoxBundle> {
  const dir = bundleDir(stateDir, spec.id);
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const rootDir = join(dir, 'rootfs');
  await mkdir(rootDir, { mode: 0o755 });
  for (const [name, target] of systemLinks().links) {
    await symlink(target, join(rootDir, name));
  }
  const etc = await writeSandboxEtc(join(dir, 'etc'), sandboxEnv(spec).HOME ?? spec.workspaceDir);
  const empty = join(etc.dir, 'empty');
  await writeFile(empty, '', { mode: 0o444 });
  const files = { passwd: join(etc.dir, 'passwd'), group: join(etc.dir, 'group'), empty };
  const config = ociConfig(spec, rootDir, files);
  for (const point of rootMountPoints(config.mounts)) {
    const source = config.mounts.find((mount) => mount.destination === point)?.source;
    // A file bound in (package.json, a masked secret) needs a file to be mounted on.
    if (source !== undefined && (await lstat(source).catch(() => undefined))?.isFile()) {
      await mkdir(dirname(join(rootDir, point)), { recursive: true, mode: 0o755 });
      await writeFile(join(rootDir, point), '', { mode: 0o444 });
    } else {
      await mkdir(join(rootDir, point), { recursive: true, mode: 0o755 });
    }
  }
  await writeFile(join(dir, 'config.json'), JSON.stringify(config, null, 2), { mode: 0o600 });
  const flags: BoxFlags = { network: spec.network };
  await writeFile(join(dir, 'box.json'), JSON.stringify({ flags }), { mode: 0o600 });
  return { dir, logFile: bundleLogFile(dir), flags };
}

/** The bundle an earlier process wrote for `id`, to restore the box from. */
export async function readBundle(stateDir: string, id: string): Promise<BoxBundle> {
  const dir = bundleDir(stateDir, id);
  try {
    const { flags } = JSON.parse(await readFile(join(dir, 'box.json'), 'utf8')) as { flags: BoxFlags };
    return { dir, logFile: bundleLogFile(dir), flags };
  } catch (error) {
    throw new NixSpaceError('NOT_FOUND', `box ${id} has no bundle in ${stateDir}`, {
      detail: String(error),
      cause: error,
    });
  }
}

export async function removeBundle(stateDir: string, id: string): Promise<void> {
  await rm(bundleDir(stateDir, id), { recursive: true, force: true });
}
