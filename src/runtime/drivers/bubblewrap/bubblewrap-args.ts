// The bwrap command line of a workspace sandbox. Order matters: bwrap applies mounts in order, so
// the fresh directories and the hidden paths come before the binds inside them (a workspace under
// /tmp, or under the hidden data directory, must stay visible).
//
// The root is minimal: the system's programs and libraries (/usr and its /bin, /lib* links), the
// public part of /etc with the sandbox's own account files, the Nix store, and what the spec
// names. Never the host's homes (/root, /home), its state (/var/lib), its secrets (/etc/shadow, the
// SSH host keys) or another tenant's files.
import { existsSync, lstatSync, readlinkSync } from 'node:fs';
import { AGENT_DIR_INSIDE } from '../../agent/agent-program.js';
import type { SandboxSpec } from '../../sandbox.js';

/** File descriptor bwrap writes its JSON info (host pid of the sandbox init, namespaces) to. */
export const infoFd = 3;
/** File descriptor the sandbox's init (the agent's filter installer) reads the seccomp filter from. */
export const initSeccompFd = 4;

/** The top-level system directories a sandbox sees: /usr and the /bin, /lib* beside it. */
export const systemDirs = ['usr', 'bin', 'sbin', 'lib', 'lib32', 'lib64', 'libx32'];

/** Files of /etc that only root may read, replaced by an empty file where they exist. */
export const secretEtcFiles = [
  'shadow',
  'shadow-',
  'gshadow',
  'gshadow-',
  'passwd-',
  'group-',
  'subuid',
  'subgid',
  'sudoers',
  'security/opasswd',
  'krb5.keytab',
];

/** Directories of /etc holding keys, hidden behind an empty one (the SSH client config comes back). */
export const secretEtcDirs = ['ssh', 'ssl/private', 'sudoers.d', 'letsencrypt', 'wireguard'];
export const sshClientConfig = ['ssh/ssh_config', 'ssh/ssh_config.d', 'ssh/ssh_known_hosts'];

export interface SandboxRootFiles {
  /** Host file → path inside, bound read-only after /etc (the generated passwd and group). */
  files: readonly (readonly [host: string, inside: string])[];
}

/** How this host lays out its system directories (merged /usr: /bin is a link to usr/bin). */
function systemRoot(): string[] {
  const args: string[] = [];
  for (const name of systemDirs) {
    const path = `/${name}`;
    const stat = lstatSync(path, { throwIfNoEntry: false });
    if (stat?.isSymbolicLink()) args.push('--symlink', readlinkSync(path), path);
    else if (stat?.isDirectory()) args.push('--ro-bind', path, path);
  }
  return args;
}

function publicEtc(files: SandboxRootFiles['files']): string[] {
  const args = ['--ro-bind', '/etc', '/etc'];
  for (const name of secretEtcDirs) {
    if (existsSync(`/etc/${name}`)) args.push('--tmpfs', `/etc/${name}`);
  }
  for (const name of sshClientConfig) args.push('--ro-bind-try', `/etc/${name}`, `/etc/${name}`);
  for (const name of secretEtcFiles) {
    if (lstatSync(`/etc/${name}`, { throwIfNoEntry: false })?.isFile()) {
      args.push('--ro-bind', '/dev/null', `/etc/${name}`);
    }
  }
  for (const [host, inside] of files) args.push('--ro-bind', host, inside);
  return args;
}

/** Mounted whole from the host: nothing needs creating inside them. */
const systemMounts = [
  '/usr',
  '/bin',
  '/sbin',
  '/lib',
  '/lib32',
  '/lib64',
  '/libx32',
  '/etc',
  '/nix/store',
  '/sys',
  '/dev',
  '/proc',
];

/**
 * The directories on the way to each bound path, made open to everyone inside (bwrap would copy
 * the host's modes, and a host directory open to root only, such as /root or a data directory,
 * would keep the sandbox's user from its own workspace).
 */
function openAncestors(paths: readonly string[]): string[] {
  const dirs = new Set<string>();
  for (const path of paths) {
    const parts = path.split('/').filter(Boolean);
    for (let i = 1; i < parts.length; i += 1) {
      const dir = `/${parts.slice(0, i).join('/')}`;
      if (!systemMounts.some((mount) => dir === mount || dir.startsWith(`${mount}/`))) dirs.add(dir);
    }
  }
  return [...dirs].flatMap((dir) => ['--perms', '0755', '--dir', dir]);
}

export interface BubblewrapInit {
  /** The agent, made the workspace user under the seccomp filter (which it installs itself). */
  argv: readonly string[];
  /** The agent program's files, shown read-only at their own paths. */
  programPaths: readonly string[];
  /** The sandbox's cgroup directories, delegated to its user, shown at AGENT_CGROUPS_INSIDE/<n>. */
  cgroupDirs: readonly string[];
}

/** Where an agent's sandbox sees its own cgroups, one numbered directory per hierarchy. */
export const AGENT_CGROUPS_INSIDE = '/run/nixspace-cgroups';

export function bubblewrapArgs(
  spec: SandboxSpec,
  workspaceDir: string,
  root: SandboxRootFiles,
  init: BubblewrapInit,
): string[] {
  const readOnlyPaths = [...(spec.readOnlyPaths ?? []), ...init.programPaths];
  return [
    ...systemRoot(),
    ...publicEtc(root.files),
    // bwrap makes the directories on the way to a mount open to root only, unless told.
    ...openAncestors(['/nix/store', '/var/tmp']),
    '--ro-bind-try',
    '/nix/store',
    '/nix/store',
    // Read-only sysfs, as containers have it: CPU and memory topology for runtimes that size pools.
    '--ro-bind',
    '/sys',
    '/sys',
    '--dev',
    '/dev',
    '--proc',
    '/proc',
    // Writable by everyone, sticky, as on any host.
    ...['/tmp', '/var/tmp'].flatMap((dir) => ['--perms', '1777', '--tmpfs', dir]),
    '--tmpfs',
    '/run',
    // Hidden before anything inside them is bound again (the mirror, the workspace itself).
    ...(spec.hiddenPaths ?? []).flatMap((path) => ['--tmpfs', path]),
    ...openAncestors([...readOnlyPaths, workspaceDir, ...(spec.runtimeDir ? [spec.runtimeDir] : [])]),
    ...readOnlyPaths.flatMap((path) => ['--ro-bind-try', path, path]),
    '--bind',
    workspaceDir,
    workspaceDir,
    ...(spec.runtimeDir ? ['--bind', spec.runtimeDir, spec.runtimeDir] : []),
    // The server's socket directory for this sandbox's agent: it may connect, never write there.
    '--ro-bind',
    spec.agentDir,
    AGENT_DIR_INSIDE,
    ...(init.cgroupDirs.length > 0 ? ['--perms', '0755', '--dir', AGENT_CGROUPS_INSIDE] : []),
    ...init.cgroupDirs.flatMap((dir, n) => ['--bind', dir, `${AGENT_CGROUPS_INSIDE}/${n}`]),
    '--unshare-pid',
    '--unshare-ipc',
    '--unshare-uts',
    '--hostname',
    spec.hostname ?? 'workspace',
    // 'none' keeps only a loopback inside; 'host' shares the host's network stack.
    ...(spec.network === 'none' ? ['--unshare-net'] : []),
    // No --die-with-parent: the sandbox outlives the server, and its agent dials the next one.
    // No controlling terminal shared with the server (TIOCSTI injection).
    '--new-session',
    // bwrap runs as root to build the mounts; its init keeps only what it takes to become the
    // sandbox's unprivileged user (setpriv, first in initArgv), which then drops those too.
    '--cap-drop',
    'ALL',
    ...['CAP_SETUID', 'CAP_SETGID', 'CAP_SETPCAP'].flatMap((cap) => ['--cap-add', cap]),
    '--info-fd',
    String(infoFd),
    // The workspace may be open to its user only: bwrap, root with no capability left, starts the
    // init in / (every command gets its own working directory).
    '--chdir',
    '/',
    // Without --as-pid-1 bwrap's own pid 1 reaps zombies and the namespace lives as long as the
    // init command does.
    '--',
    ...init.argv,
  ];
}
