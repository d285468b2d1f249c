// Syscall numbers of the calls the workspace filter inspects (and of those installing it), per
// architecture: x86_64 from arch/x86/entry/syscalls/syscall_64.tbl, aarch64 from the generic table
// (asm-generic/unistd.h). A call an architecture does not have is absent from its table. The test
// compares each number with the kernel headers installed on the host.

export type SeccompArch = 'x64' | 'arm64';

export type SyscallName =
  | 'acct'
  | 'add_key'
  | 'bpf'
  | 'clock_settime'
  | 'clone'
  | 'clone3'
  | 'delete_module'
  | 'finit_module'
  | 'fsconfig'
  | 'fsmount'
  | 'fsopen'
  | 'fspick'
  | 'getpid'
  | 'init_module'
  | 'io_uring_enter'
  | 'io_uring_register'
  | 'io_uring_setup'
  | 'ioctl'
  | 'ioperm'
  | 'iopl'
  | 'kexec_file_load'
  | 'kexec_load'
  | 'keyctl'
  | 'lookup_dcookie'
  | 'migrate_pages'
  | 'mount'
  | 'mount_setattr'
  | 'move_mount'
  | 'move_pages'
  | 'nfsservctl'
  | 'open_by_handle_at'
  | 'open_tree'
  | 'perf_event_open'
  | 'personality'
  | 'pivot_root'
  | 'prctl'
  | 'quotactl'
  | 'quotactl_fd'
  | 'reboot'
  | 'request_key'
  | 'seccomp'
  | 'setns'
  | 'settimeofday'
  | 'socket'
  | 'swapoff'
  | 'swapon'
  | 'syslog'
  | 'umount2'
  | 'unshare'
  | 'uselib'
  | 'userfaultfd';

export interface ArchSyscalls {
  /** AUDIT_ARCH_* value the kernel reports in seccomp_data.arch for this ABI. */
  auditArch: number;
  /**
   * Bit set in the syscall number by an ABI sharing this audit arch (x32 on x86_64), whose
   * numbers the filter must not mistake for native ones.
   */
  foreignAbiBit?: number;
  numbers: Partial<Record<SyscallName, number>>;
}

const x64: ArchSyscalls = {
  auditArch: 0xc000003e,
  foreignAbiBit: 0x40000000,
  numbers: {
    ioctl: 16,
    getpid: 39,
    socket: 41,
    clone: 56,
    syslog: 103,
    uselib: 134,
    personality: 135,
    pivot_root: 155,
    prctl: 157,
    acct: 163,
    settimeofday: 164,
    mount: 165,
    umount2: 166,
    swapon: 167,
    swapoff: 168,
    reboot: 169,
    iopl: 172,
    ioperm: 173,
    init_module: 175,
    delete_module: 176,
    quotactl: 179,
    nfsservctl: 180,
    lookup_dcookie: 212,
    clock_settime: 227,
    kexec_load: 246,
    add_key: 248,
    request_key: 249,
    keyctl: 250,
    migrate_pages: 256,
    unshare: 272,
    move_pages: 279,
    perf_event_open: 298,
    open_by_handle_at: 304,
    setns: 308,
    finit_module: 313,
    seccomp: 317,
    kexec_file_load: 320,
    bpf: 321,
    userfaultfd: 323,
    io_uring_setup: 425,
    io_uring_enter: 426,
    io_uring_register: 427,
    open_tree: 428,
    move_mount: 429,
    fsopen: 430,
    fsconfig: 431,
    fsmount: 432,
    fspick: 433,
    clone3: 435,
    mount_setattr: 442,
    quotactl_fd: 443,
  },
};

const arm64: ArchSyscalls = {
  auditArch: 0xc00000b7,
  numbers: {
    lookup_dcookie: 18,
    ioctl: 29,
    umount2: 39,
    mount: 40,
    pivot_root: 41,
    nfsservctl: 42,
    quotactl: 60,
    acct: 89,
    personality: 92,
    unshare: 97,
    kexec_load: 104,
    init_module: 105,
    delete_module: 106,
    clock_settime: 112,
    syslog: 116,
    reboot: 142,
    prctl: 167,
    settimeofday: 170,
    getpid: 172,
    socket: 198,
    add_key: 217,
    request_key: 218,
    keyctl: 219,
    clone: 220,
    swapon: 224,
    swapoff: 225,
    migrate_pages: 238,
    move_pages: 239,
    perf_event_open: 241,
    open_by_handle_at: 265,
    setns: 268,
    finit_module: 273,
    seccomp: 277,
    bpf: 280,
    userfaultfd: 282,
    kexec_file_load: 294,
    io_uring_setup: 425,
    io_uring_enter: 426,
    io_uring_register: 427,
    open_tree: 428,
    move_mount: 429,
    fsopen: 430,
    fsconfig: 431,
    fsmount: 432,
    fspick: 433,
    clone3: 435,
    mount_setattr: 442,
    quotactl_fd: 443,
  },
};

export const syscallTables: Record<SeccompArch, ArchSyscalls> = { x64, arm64 };

/** The filter's architecture for this host, or undefined where the project has no table. */
export function hostSeccompArch(arch: string = process.arch): SeccompArch | undefined {
  return arch === 'x64' || arch === 'arm64' ? arch : undefined;
}
