// Raw syscalls made inside a sandbox to see what its seccomp filter does. Each refused call is
// made with arguments the kernel itself rejects with an error other than EPERM (a bad flag, a bad
// address, a closed fd) or safely accepts, even for host root: without the filter the answer
// differs, with it the call fails with the filter's errno. The calls run from python3's ctypes,
// one forked child each, so a call that changes its process (unshare, personality) affects
// nothing after it.
import type { SyscallName } from './syscall-numbers.js';

export interface SyscallProbe {
  args: readonly number[];
  /** The call creates a process (clone): the new one exits at once, the caller reaps it. */
  forks?: boolean;
}

const badFd = 9999;
/** An address no process maps: copying from it fails with EFAULT. */
const badAddress = 1;
const CLONE_NEWUSER = 0x10000000;
const SIGCHLD = 17;

/** One probe per call the workspace policy refuses (the test checks that none is missing). */
export const refusedCallProbes: Record<string, SyscallProbe> = {
  ioctl: { args: [badFd, 0x5412 /* TIOCSTI */, 0] },
  socket: { args: [40 /* AF_VSOCK */, 1 /* SOCK_STREAM */, 0] },
  clone: { args: [CLONE_NEWUSER | SIGCHLD, 0, 0, 0, 0], forks: true },
  unshare: { args: [CLONE_NEWUSER] },
  clone3: { args: [0, 0] },
  personality: { args: [0x0040000 /* ADDR_NO_RANDOMIZE */] },
  mount: { args: [0, 0, 0, 0, 0] },
  umount2: { args: [0, 0x100 /* no such flag */] },
  pivot_root: { args: [0, 0] },
  open_tree: { args: [-1, 0, 0xffffffff] },
  move_mount: { args: [-1, 0, -1, 0, 0xffffffff] },
  fsopen: { args: [0, 0xffffffff] },
  fsconfig: { args: [-1, 0, 0, 0, 0] },
  fsmount: { args: [-1, 0xffffffff, 0] },
  fspick: { args: [-1, 0, 0xffffffff] },
  mount_setattr: { args: [-1, 0, 0xffffffff, 0, 0] },
  setns: { args: [-1, 0] },
  kexec_load: { args: [0, 0, 0, 0x100 /* no such flag */] },
  kexec_file_load: { args: [-1, -1, 0, 0, 0x100 /* no such flag */] },
  reboot: { args: [0, 0, 0, 0] /* wrong magic */ },
  init_module: { args: [0, 0, 0] },
  finit_module: { args: [badFd, 0, 0] },
  delete_module: { args: [0, 0] },
  bpf: { args: [9999 /* no such command */, 0, 0] },
  perf_event_open: { args: [0, 0, -1, -1, 0] },
  userfaultfd: { args: [1 /* UFFD_USER_MODE_ONLY, which needs no privilege */] },
  io_uring_setup: { args: [0, 0] },
  io_uring_enter: { args: [badFd, 0, 0, 0, 0, 0] },
  io_uring_register: { args: [badFd, 0, 0, 0] },
  keyctl: { args: [9999 /* no such operation */, 0, 0, 0, 0] },
  add_key: { args: [0, 0, 0, 0, 0] },
  request_key: { args: [0, 0, 0, 0] },
  open_by_handle_at: { args: [badFd, 0, 0] },
  swapon: { args: [badAddress, 0] },
  swapoff: { args: [badAddress] },
  acct: { args: [badAddress] },
  quotactl: { args: [0xff /* no such quota type */, 0, 0, 0] },
  quotactl_fd: { args: [badFd, 0xff, 0, 0] },
  settimeofday: { args: [badAddress, 0] },
  clock_settime: { args: [0, 0] },
  syslog: { args: [10 /* SYSLOG_ACTION_SIZE_BUFFER */, 0, 0] },
  lookup_dcookie: { args: [0, 0, 0] },
  move_pages: { args: [0, 0, 0, 0, 0, 0] },
  migrate_pages: { args: [0, 0, 0, 0] },
  iopl: { args: [5 /* above the highest level */] },
  ioperm: { args: [0, 0, 1] },
  uselib: { args: [0] },
  nfsservctl: { args: [0, 0, 0] },
} satisfies Partial<Record<SyscallName, SyscallProbe>>;

/** Calls the filter decides by argument, made with an argument it lets through. */
export const allowedCallProbes: Record<string, SyscallProbe & { call: SyscallName }> = {
  getpid: { call: 'getpid', args: [] },
  'ioctl TCGETS': { call: 'ioctl', args: [badFd, 0x5401, 0] },
  'socket AF_UNIX': { call: 'socket', args: [1, 1, 0] },
  'clone without namespaces (fork)': { call: 'clone', args: [SIGCHLD, 0, 0, 0, 0], forks: true },
  'unshare CLONE_FS': { call: 'unshare', args: [0x200] },
  'personality query': { call: 'personality', args: [0xffffffff] },
};

/** The outcome of one probe: the call's return value, and errno when it returned -1. */
export type ProbeOutcome = [ret: number, errno: number];

/**
 * python3 source: argv[1] is a JSON list of [label, nr, args, forks]; prints a JSON object of
 * label -> [ret, errno].
 */
export const probeScript = `
import ctypes, json, os, sys
libc = ctypes.CDLL(None, use_errno=True)
libc.syscall.restype = ctypes.c_long
out = {}
for label, nr, args, forks in json.loads(sys.argv[1]):
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(r)
        me = os.getpid()
        ctypes.set_errno(0)
        ret = libc.syscall(ctypes.c_long(nr), *[ctypes.c_long(a) for a in args])
        err = ctypes.get_errno() if ret == -1 else 0
        if os.getpid() != me:
            os._exit(0)
        if forks and ret > 0:
            os.waitpid(ret, 0)
        os.write(w, json.dumps([ret, err]).encode())
        os._exit(0)
    os.close(w)
    data = b''
    while True:
        chunk = os.read(r, 4096)
        if not chunk:
            break
        data += chunk
    os.close(r)
    os.waitpid(pid, 0)
    out[label] = json.loads(data) if data else None
print(json.dumps(out))
`;

/**
 * python3 source for a call of the i386 ABI from a 64-bit process (int 0x80 with eax = 20, i386
 * getpid): prints its result. The filter must kill the process, whose numbers it does not know.
 */
export const i386ProbeScript = `
import ctypes, mmap
page = mmap.mmap(-1, 4096, prot=mmap.PROT_READ | mmap.PROT_WRITE | mmap.PROT_EXEC)
page.write(b'\\xb8\\x14\\x00\\x00\\x00\\xcd\\x80\\xc3')
call = ctypes.CFUNCTYPE(ctypes.c_int)(ctypes.addressof(ctypes.c_char.from_buffer(page)))
print(call())
`;
