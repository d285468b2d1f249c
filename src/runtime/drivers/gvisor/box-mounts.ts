// The mounts of a box's OCI config: the same minimal root as a bubblewrap sandbox (see
// bubblewrap-args.ts). /usr and the /bin, /lib* beside it (links on a merged-/usr host, made in
// the bundle's root directory), the public part of /etc with the box's own account files and its
// secrets masked, the Nix store, fresh /tmp, /var/tmp and /run, and what the spec names. Never the
// host's homes, its state or another tenant's files.
//
// Order matters as it does for bwrap: parents before what is mounted inside them, and the hidden
// paths before the workspace, read-only and runtime paths that may lie inside them.
import { existsSync, lstatSync, readlinkSync } from 'node:fs';
import { secretEtcDirs, secretEtcFiles, sshClientConfig, systemDirs } from '../bubblewrap/bubblewrap-args.js';
import { AGENT_DIR_INSIDE, type GvisorBoxSpec } from './box-spec.js';

export interface OciMount {
  destination: string;
  type: 'bind' | 'tmpfs' | 'proc' | 'sysfs';
  source: string;
  options?: string[];
}

/** Files the bundle provides: the account files, and the empty file secrets are masked with. */
export interface BoxRootFiles {
  passwd: string;
  group: string;
  empty: string;
}

const ro = (path: string, destination = path): OciMount => ({
  destination,
  type: 'bind',
  source: path,
  options: ['rbind', 'ro', 'nosuid', 'nodev'],
});
const rw = (path: string, destination = path): OciMount => ({
  destination,
  type: 'bind',
  source: path,
  options: ['rbind', 'rw', 'nosuid', 'nodev'],
});
const tmpfs = (destination: string, mode: string): OciMount => ({
  destination,
  type: 'tmpfs',
  source: 'tmpfs',
  options: ['nosuid', 'nodev', `mode=${mode}`],
});

/** The system directories that are links here (name, target) and those that are directories (bound). */
export function systemLinks(): { links: [name: string, target: string][]; dirs: string[] } {
  const links: [string, string][] = [];
  const dirs: string[] = [];
  for (const name of systemDirs) {
    const stat = lstatSync(`/${name}`, { throwIfNoEntry: false });
    if (stat?.isSymbolicLink()) links.push([name, readlinkSync(`/${name}`)]);
    else if (stat?.isDirectory()) dirs.push(`/${name}`);
  }
  return { links, dirs };
}

function publicEtc(files: BoxRootFiles): OciMount[] {
  const mounts = [ro('/etc')];
  for (const name of secretEtcDirs) {
    if (existsSync(`/etc/${name}`)) mounts.push(tmpfs(`/etc/${name}`, '0755'));
  }
  for (const name of sshClientConfig) if (existsSync(`/etc/${name}`)) mounts.push(ro(`/etc/${name}`));
  for (const name of secretEtcFiles) {
    if (lstatSync(`/etc/${name}`, { throwIfNoEntry: false })?.isFile()) {
      mounts.push(ro(files.empty, `/etc/${name}`));
    }
  }
  mounts.push(ro(files.passwd, '/etc/passwd'), ro(files.group, '/etc/group'));
  return mounts;
}

export function boxMounts(spec: GvisorBoxSpec, files: BoxRootFiles): OciMount[] {
  return [
    { destination: '/proc', type: 'proc', source: 'proc' },
    // runsc fills a tmpfs at /dev with its own devices (null, zero, urandom, tty, pts, shm).
    { destination: '/dev', type: 'tmpfs', source: 'tmpfs' },
    { destination: '/sys', type: 'sysfs', source: 'sysfs', options: ['nosuid', 'noexec', 'nodev', 'ro'] },
    ...systemLinks().dirs.map((dir) => ro(dir)),
    ...publicEtc(files),
    ...(existsSync('/nix/store') ? [ro('/nix/store')] : []),
    // Writable by everyone, sticky, as on any host.
    tmpfs('/tmp', '1777'),
    tmpfs('/var/tmp', '1777'),
    tmpfs('/run', '0755'),
    // Hidden before anything inside them is mounted again (the mirror, the workspace itself).
    ...(spec.hiddenPaths ?? []).map((path) => tmpfs(path, '0755')),
    ...(spec.readOnlyPaths ?? []).filter((path) => existsSync(path)).map((path) => ro(path)),
    rw(spec.workspaceDir),
    ...(spec.runtimeDir ? [rw(spec.runtimeDir)] : []),
    // The server's socket directory for this box's agent: it may connect, never write there.
    ro(spec.agentDir, AGENT_DIR_INSIDE),
  ];
}

/**
 * The mount points that must exist in the bundle's (read-only) root directory: every destination
 * not under one of the fresh file systems, where runsc makes its own.
 */
export function rootMountPoints(mounts: readonly OciMount[]): string[] {
  const fresh = mounts.filter((mount) => mount.type !== 'bind').map((mount) => mount.destination);
  const under = (path: string, dir: string) => path.startsWith(`${dir}/`);
  return mounts
    .filter((mount) => !fresh.some((dir) => under(mount.destination, dir)))
    .filter((mount) => !mounts.some((m) => m.type === 'bind' && under(mount.destination, m.destination)))
    .map((mount) => mount.destination);
}
