// What the workspace filter refuses. Everything else is allowed: the list follows Docker's default
// profile for a container without capabilities (profiles/seccomp/default.json in moby), kept to the
// calls that reach the kernel's privileged or rarely used surfaces, plus what a workspace on a
// shared host must never do (join or create namespaces, inject keystrokes into a terminal, talk to
// the hypervisor over vsock). A refused call fails with EPERM, as if the kernel had refused it, so
// programs that probe a feature fall back instead of crashing.
import type { SyscallName } from './syscall-numbers.js';

export const EPERM = 1;
export const ENOSYS = 38;

/** Every CLONE_NEW* flag clone(2) takes (Docker's 0x7e020000). */
const cloneNamespaceFlags =
  0x00020000 | // CLONE_NEWNS
  0x02000000 | // CLONE_NEWCGROUP
  0x04000000 | // CLONE_NEWUTS
  0x08000000 | // CLONE_NEWIPC
  0x10000000 | // CLONE_NEWUSER
  0x20000000 | // CLONE_NEWPID
  0x40000000; // CLONE_NEWNET
/** unshare(2) also takes CLONE_NEWTIME, a bit clone(2) uses for the exit signal. */
const unshareNamespaceFlags = cloneNamespaceFlags | 0x00000080;

export const TIOCSTI = 0x5412;
export const TIOCLINUX = 0x541c;
export const AF_VSOCK = 40;

/**
 * How a call is refused: always, or by one argument. Arguments are compared on their low 32 bits,
 * which is all the kernel reads of every argument checked here (an ioctl request, a personality,
 * clone and unshare flags, a socket family), so high bits cannot smuggle a value past the filter.
 */
export type SeccompCondition =
  | { kind: 'always' }
  /** Refused when the argument is one of the values. */
  | { kind: 'argIn'; index: number; values: readonly number[] }
  /** Refused unless the argument is one of the values. */
  | { kind: 'argNotIn'; index: number; values: readonly number[] }
  /** Refused when the argument has any of the bits. */
  | { kind: 'argHasBits'; index: number; bits: number };

export interface SeccompRule {
  call: SyscallName;
  when: SeccompCondition;
  errno: number;
  why: string;
}

const always: SeccompCondition = { kind: 'always' };

function refuse(calls: readonly SyscallName[], why: string, when = always, errno = EPERM): SeccompRule[] {
  return calls.map((call) => ({ call, when, errno, why }));
}

/**
 * The rules in the order the filter checks them: calls refused by argument first, since they are
 * the frequent ones (ioctl, socket, clone) and every other call is decided by the kernel's cache
 * of constant results without running the filter at all.
 */
export const workspaceSeccompPolicy: readonly SeccompRule[] = [
  ...refuse(['ioctl'], 'pushes input into a terminal (TIOCSTI) or drives a console (TIOCLINUX)', {
    kind: 'argIn',
    index: 1,
    values: [TIOCSTI, TIOCLINUX],
  }),
  ...refuse(['socket'], 'reaches the hypervisor and its other guests over vsock', {
    kind: 'argIn',
    index: 0,
    values: [AF_VSOCK],
  }),
  ...refuse(['clone'], 'creates namespaces, a new user namespace above all', {
    kind: 'argHasBits',
    index: 0,
    bits: cloneNamespaceFlags,
  }),
  ...refuse(['unshare'], 'creates namespaces, a new user namespace above all', {
    kind: 'argHasBits',
    index: 0,
    bits: unshareNamespaceFlags,
  }),
  // clone3 passes its flags in memory the filter cannot read: refused as not implemented, so the C
  // library falls back to clone, whose flags are checked above.
  ...refuse(['clone3'], 'passes namespace flags the filter cannot see', always, ENOSYS),
  ...refuse(['personality'], 'turns off address randomisation or changes the ABI', {
    kind: 'argNotIn',
    index: 0,
    // PER_LINUX, PER_LINUX32, UNAME26, UNAME26|PER_LINUX32, and the query.
    values: [0x0, 0x8, 0x20000, 0x20008, 0xffffffff],
  }),
  ...refuse(
    [
      'mount',
      'umount2',
      'pivot_root',
      'open_tree',
      'move_mount',
      'fsopen',
      'fsconfig',
      'fsmount',
      'fspick',
      'mount_setattr',
    ],
    'changes the mount table',
  ),
  ...refuse(['setns'], 'joins another namespace'),
  ...refuse(['kexec_load', 'kexec_file_load', 'reboot'], 'replaces or stops the running kernel'),
  ...refuse(['init_module', 'finit_module', 'delete_module'], 'loads or unloads kernel code'),
  ...refuse(
    ['bpf', 'perf_event_open', 'userfaultfd', 'io_uring_setup', 'io_uring_enter', 'io_uring_register'],
    'exposes a kernel surface with a long record of privilege escalations',
  ),
  ...refuse(
    ['keyctl', 'add_key', 'request_key'],
    'reaches the kernel keyrings, which namespaces do not separate',
  ),
  ...refuse(['open_by_handle_at'], 'opens files by handle, past the mount namespace (the shocker escape)'),
  ...refuse(['swapon', 'swapoff', 'acct', 'quotactl', 'quotactl_fd'], 'administers the host'),
  ...refuse(['settimeofday', 'clock_settime'], 'sets the host clock'),
  ...refuse(['syslog', 'lookup_dcookie'], 'reads kernel state'),
  ...refuse(['move_pages', 'migrate_pages'], "moves another process's memory"),
  ...refuse(['iopl', 'ioperm'], 'reaches I/O ports'),
  ...refuse(['uselib', 'nfsservctl'], 'is obsolete'),
];
