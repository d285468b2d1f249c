// How a process becomes the workspace user: on the host, setpriv turns root into the sandbox's
// unprivileged uid with no capability left and no way to gain one; inside, unshare gives it a
// user namespace of its own in which that uid is the workspace user (`dev`, 1000), and the
// seccomp filter goes on before the program runs.
import { NixSpaceError } from '../../../errors.js';
import { type SandboxUser, WORKSPACE_USER } from '../../sandbox.js';
import { seccompExecArgv } from '../../seccomp/seccomp-exec.js';

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
 * The words that run the following argv as the workspace user in `cwd`: unshare gives the process
 * a user namespace of its own in which its uid is the workspace user's, and the perl installer
 * puts the seccomp filter (open on `seccompFd`) on it before it execs the program. Nothing stays
 * between the two: a signal to the process group reaches the program and nothing else, and no
 * further user namespace can be made once the filter is on.
 */
export function asWorkspaceUser(unshare: string, cwd: string, seccompFd?: number): string[] {
  const { uid, gid } = WORKSPACE_USER;
  return [
    unshare,
    '--user',
    `--map-user=${uid}`,
    `--map-group=${gid}`,
    `--wd=${cwd}`,
    '--',
    ...(seccompFd === undefined ? [] : seccompExecArgv({ fd: seccompFd })),
  ];
}
