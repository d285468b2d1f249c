// Runs a program as a non-root uid/gid without a host account: a user namespace maps the caller's
// own uid to it (ExecOptions.user). Mapping uid 0 needs CAP_SETFCAP, so the prefix must run before
// capabilities are dropped.
import { NixSpaceError } from '../../errors.js';
import { findExecutable } from './find-executable.js';

/** The argv words that make the following argv run as `user` (util-linux unshare ≥ 2.38). */
export function userNamespaceArgv(user: { uid: number; gid: number }): string[] {
  for (const id of [user.uid, user.gid]) {
    // 0 would be root again; the upper bound is the kernel's largest valid id.
    if (!Number.isInteger(id) || id <= 0 || id > 0xfffffffe) {
      throw new NixSpaceError('BAD_REQUEST', `user ids must be positive integers: ${user.uid}:${user.gid}`);
    }
  }
  const unshare = findExecutable('unshare');
  if (unshare === undefined) {
    throw new NixSpaceError(
      'SANDBOX_UNAVAILABLE',
      "unshare is missing: install the Debian package 'util-linux'",
    );
  }
  return [unshare, '--user', `--map-user=${user.uid}`, `--map-group=${user.gid}`, '--'];
}
