// How a process becomes the workspace user: on the host, setpriv turns root into the sandbox's
// unprivileged uid with no capability left and no way to gain one; inside, a nested bwrap gives it
// a user namespace of its own in which that uid is the workspace user (`dev`, 1000), where no
// further user namespace can be made and the seccomp filter applies.
import { NixSpaceError } from '../../../errors.js';
import { type SandboxUser, WORKSPACE_USER } from '../../sandbox.js';

/** The largest uid the kernel accepts; 0 (root) is never a sandbox's user. */
const maxId = 0xfffffffe;

export function assertSandboxUser(user: SandboxUser): void {
  for (const id of [user.uid, user.gid]) {
    if (!Number.isInteger(id) || id <= 0 || id > maxId) {
      throw new NixSpaceError(
        'BAD_REQUEST',
        `a sandbox's user must be a non-root uid/gid: ${user.uid}:${user.gid}`,
      );
    }
  }
}

/** setpriv's words that make the following argv run as `user`, with no capability, for good. */
export function dropToUser(setpriv: string, user: SandboxUser): string[] {
  return [
    setpriv,
    `--reuid=${user.uid}`,
    `--regid=${user.gid}`,
    '--clear-groups',
    '--inh-caps=-all',
    '--bounding-set=-all',
    '--no-new-privs',
    '--pdeathsig',
    'KILL',
    '--',
  ];
}

/**
 * bwrap's words that run the following argv as the workspace user in `cwd`. The filesystem is the
 * sandbox's own (bound whole, devices included); `seccompFd`, when given, is an open descriptor of
 * the compiled filter.
 */
export function asWorkspaceUser(bwrap: string, cwd: string, seccompFd?: number): string[] {
  // (The probe runs it without a filter: it checks that the kernel allows the user namespace.)
  return [
    bwrap,
    '--unshare-user',
    '--disable-userns',
    '--uid',
    String(WORKSPACE_USER.uid),
    '--gid',
    String(WORKSPACE_USER.gid),
    '--dev-bind',
    '/',
    '/',
    '--die-with-parent',
    '--chdir',
    cwd,
    ...(seccompFd === undefined ? [] : ['--seccomp', String(seccompFd)]),
    '--',
  ];
}
