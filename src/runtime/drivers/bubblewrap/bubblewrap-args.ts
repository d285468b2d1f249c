// The bwrap command line of a workspace sandbox. Order matters: bwrap applies mounts in order, so
// the fresh /tmp and the hidden paths come before the binds inside them (a workspace under /tmp,
// or under the hidden data directory, must stay visible).
import type { SandboxSpec } from '../../sandbox.js';

/** File descriptor bwrap writes its JSON info (host pid of the sandbox init, namespaces) to. */
export const infoFd = 3;

export function bubblewrapArgs(
  spec: SandboxSpec,
  workspaceDir: string,
  initArgv: readonly string[],
): string[] {
  return [
    // Read-only host: toolchains and the environment's store are visible, nothing is writable.
    '--ro-bind',
    '/',
    '/',
    '--dev',
    '/dev',
    '--proc',
    '/proc',
    '--tmpfs',
    '/tmp',
    // Hidden before anything inside them is bound again (the mirrors, the workspace itself).
    ...(spec.hiddenPaths ?? []).flatMap((path) => ['--tmpfs', path]),
    ...(spec.readOnlyPaths ?? []).flatMap((path) => ['--ro-bind-try', path, path]),
    '--bind',
    workspaceDir,
    workspaceDir,
    ...(spec.runtimeDir ? ['--bind', spec.runtimeDir, spec.runtimeDir] : []),
    '--unshare-pid',
    '--unshare-ipc',
    '--unshare-uts',
    '--hostname',
    spec.hostname ?? 'workspace',
    // 'none' keeps only a loopback inside; 'host' shares the host's network stack.
    ...(spec.network === 'none' ? ['--unshare-net'] : []),
    // If the server dies, the sandbox dies with it instead of running unsupervised.
    '--die-with-parent',
    // No controlling terminal shared with the server (TIOCSTI injection).
    '--new-session',
    // We run as root; the init needs no privilege, and later processes drop theirs (setpriv).
    '--cap-drop',
    'ALL',
    '--info-fd',
    String(infoFd),
    '--chdir',
    workspaceDir,
    // Without --as-pid-1 bwrap's own pid 1 reaps zombies and the namespace lives as long as the
    // init command does.
    '--',
    ...initArgv,
  ];
}
