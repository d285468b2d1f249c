// Installs the workspace filter on a process that was not started by bwrap (a command that joins a
// running sandbox with nsenter) and then runs the command: a perl program (perl is part of every
// Debian base system, and needs no compiler or native module) reads the compiled filter from a
// file descriptor, sets no_new_privs, installs the filter with seccomp(2) and execs. What bwrap's
// --seccomp does, for the processes bwrap does not start.
import { NixSpaceError } from '../../errors.js';
import { hostSeccompArch, syscallTables } from './syscall-numbers.js';

/** Where the wrapper reads the filter from unless told otherwise (`9<filter-file`). */
export const seccompExecFd = 9;

const PR_SET_NO_NEW_PRIVS = 38;
const SECCOMP_SET_MODE_FILTER = 1;

/**
 * The argv prefix that runs the rest of argv under the filter open on `fd`, e.g.
 * `[...seccompExecArgv(), 'sh', '-c', '...']` with the filter file redirected to fd 9. The
 * descriptor is closed before the command runs. Fails (a nonzero status, a message on stderr)
 * rather than run the command unfiltered.
 */
export function seccompExecArgv(options: { perl?: string; fd?: number; arch?: string } = {}): string[] {
  const arch = hostSeccompArch(options.arch);
  const numbers = arch === undefined ? undefined : syscallTables[arch].numbers;
  if (numbers?.prctl === undefined || numbers.seccomp === undefined) {
    throw new NixSpaceError(
      'SANDBOX_UNAVAILABLE',
      `the workspace seccomp filter has no syscall table for the ${options.arch ?? process.arch} architecture`,
    );
  }
  const fd = options.fd ?? seccompExecFd;
  if (!Number.isInteger(fd) || fd < 3) throw new RangeError(`not a descriptor for the filter: ${fd}`);
  const die = (what: string) => `die "nixspace seccomp: ${what}: $!\\n"`;
  const script = [
    `open(my $f, '<&=', ${fd}) or ${die(`cannot read the filter on fd ${fd}`)};`,
    'binmode $f;',
    'my $filter = do { local $/; <$f> };',
    'close $f;',
    `die "nixspace seccomp: the filter is not whole instructions\\n" if length($filter) == 0 || length($filter) % 8;`,
    `syscall(${numbers.prctl}, ${PR_SET_NO_NEW_PRIVS}, 1, 0, 0, 0) == 0 or ${die('no_new_privs')};`,
    // struct sock_fprog { unsigned short len; struct sock_filter *filter; } on a 64-bit ABI.
    "my $prog = pack('S x6 P', length($filter) / 8, $filter);",
    `syscall(${numbers.seccomp}, ${SECCOMP_SET_MODE_FILTER}, 0, $prog) == 0 or ${die('cannot install the filter')};`,
    `exec { $ARGV[0] } @ARGV or ${die('cannot run $ARGV[0]')};`,
  ].join('\n');
  return [options.perl ?? 'perl', '-e', script, '--'];
}
