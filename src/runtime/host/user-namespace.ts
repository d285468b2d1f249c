// Runs a program as a non-root uid/gid without a host account: a user namespace maps the caller's
// own uid to it (see CommandOptions.user). Mapping uid 0 needs CAP_SETFCAP, so the prefix must run
// before capabilities are dropped.
import { NixSpaceError } from '../../errors.js';
import { shellQuote as q } from './shell-quote.js';

/** The shell words that make the following argv run as `user` (util-linux unshare ≥ 2.38). */
export function userNamespacePrefix(unshare: string, user: { uid: number; gid: number }): string {
  for (const id of [user.uid, user.gid]) {
    // 0 would be root again; the upper bound is the kernel's largest valid id.
    if (!Number.isInteger(id) || id <= 0 || id > 0xfffffffe) {
      throw new NixSpaceError('BAD_REQUEST', `user ids must be positive integers: ${user.uid}:${user.gid}`);
    }
  }
  return `${q(unshare)} --user --map-user=${user.uid} --map-group=${user.gid} --`;
}
