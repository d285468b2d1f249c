// The filter's bytes, decided by a small classic-BPF interpreter for both architectures, and the
// syscall tables against the kernel headers of this host. What the kernel does with the filter is
// in seccomp-bwrap.test.ts.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { NixSpaceError } from '../../errors.js';
import { type BpfInstruction, decodeBpf } from './bpf.js';
import {
  buildSeccompFilter,
  SECCOMP_RET_ALLOW,
  SECCOMP_RET_ERRNO,
  SECCOMP_RET_KILL_PROCESS,
  writeSeccompFilter,
} from './seccomp-filter.js';
import { ENOSYS, EPERM, TIOCSTI, workspaceSeccompPolicy } from './seccomp-policy.js';
import { refusedCallProbes } from './seccomp-probes.js';
import { type SeccompArch, type SyscallName, syscallTables } from './syscall-numbers.js';

/** Runs a filter on struct seccomp_data as the kernel would. */
function decide(program: readonly BpfInstruction[], nr: number, arch: number, args: bigint[] = []): number {
  const data = Buffer.alloc(64);
  data.writeInt32LE(nr | 0, 0);
  data.writeUInt32LE(arch, 4);
  for (const [i, arg] of args.entries()) data.writeBigUInt64LE(BigInt.asUintN(64, arg), 16 + 8 * i);
  let a = 0;
  for (let pc = 0; pc < program.length; pc++) {
    const { code, jt, jf, k } = program[pc]!;
    switch (code) {
      case 0x20:
        a = data.readUInt32LE(k);
        break;
      case 0x15:
        pc += a === k ? jt : jf;
        break;
      case 0x35:
        pc += a >= k ? jt : jf;
        break;
      case 0x45:
        pc += (a & k) !== 0 ? jt : jf;
        break;
      case 0x06:
        return k;
      default:
        throw new Error(`unexpected instruction ${code.toString(16)} at ${pc}`);
    }
  }
  throw new Error('the filter ran past its end');
}

const refused = (errno: number) => (SECCOMP_RET_ERRNO | errno) >>> 0;

for (const arch of ['x64', 'arm64'] as const satisfies readonly SeccompArch[]) {
  describe(`seccomp filter for ${arch}`, () => {
    const table = syscallTables[arch];
    const program = decodeBpf(buildSeccompFilter(arch));
    const nr = (call: SyscallName) => {
      const number = table.numbers[call];
      assert.notEqual(number, undefined, `${call} on ${arch}`);
      return number!;
    };
    const run = (call: SyscallName, ...args: bigint[]) => decide(program, nr(call), table.auditArch, args);

    it('kills a process of another architecture', () => {
      assert.equal(decide(program, nr('getpid'), 0x40000003 /* i386 */), SECCOMP_RET_KILL_PROCESS);
      assert.equal(decide(program, nr('getpid'), 0x40000028 /* arm */), SECCOMP_RET_KILL_PROCESS);
    });

    it('allows calls it does not name, and a skipped call (-1)', () => {
      assert.equal(run('getpid'), SECCOMP_RET_ALLOW);
      assert.equal(decide(program, 0, table.auditArch), SECCOMP_RET_ALLOW);
      assert.equal(decide(program, -1, table.auditArch), SECCOMP_RET_ALLOW);
    });

    it('refuses every call of the policy this architecture has, with its errno', () => {
      for (const rule of workspaceSeccompPolicy) {
        if (rule.when.kind !== 'always' || table.numbers[rule.call] === undefined) continue;
        assert.equal(run(rule.call), refused(rule.errno), rule.call);
      }
      assert.equal(run('clone3'), refused(ENOSYS));
      assert.equal(run('mount'), refused(EPERM));
    });

    it('refuses TIOCSTI and TIOCLINUX on their low 32 bits, other ioctls pass', () => {
      assert.equal(run('ioctl', 0n, BigInt(TIOCSTI)), refused(EPERM));
      assert.equal(run('ioctl', 0n, 0x1_0000_0000n | BigInt(TIOCSTI)), refused(EPERM));
      assert.equal(run('ioctl', 0n, 0x541cn), refused(EPERM));
      assert.equal(run('ioctl', 0n, 0x5401n /* TCGETS */), SECCOMP_RET_ALLOW);
      assert.equal(run('ioctl', BigInt(TIOCSTI), 0x5401n), SECCOMP_RET_ALLOW);
    });

    it('refuses every namespace flag of clone and unshare, and lets threads and forks through', () => {
      for (const flag of [
        0x20000n,
        0x2000000n,
        0x4000000n,
        0x8000000n,
        0x10000000n,
        0x20000000n,
        0x40000000n,
      ]) {
        assert.equal(run('clone', flag | 17n), refused(EPERM), `clone ${flag.toString(16)}`);
        assert.equal(run('unshare', flag), refused(EPERM), `unshare ${flag.toString(16)}`);
      }
      assert.equal(run('unshare', 0x80n /* CLONE_NEWTIME */), refused(EPERM));
      // What glibc passes for a thread, and for fork; 0x80 is part of clone's exit signal.
      assert.equal(run('clone', 0x3d0f00n), SECCOMP_RET_ALLOW);
      assert.equal(run('clone', 0x1200011n), SECCOMP_RET_ALLOW);
      assert.equal(run('clone', 0x80n), SECCOMP_RET_ALLOW);
      assert.equal(run('unshare', 0x200n /* CLONE_FS */), SECCOMP_RET_ALLOW);
    });

    it('allows only the plain personalities', () => {
      for (const persona of [0n, 8n, 0x20000n, 0x20008n, 0xffffffffn]) {
        assert.equal(run('personality', persona), SECCOMP_RET_ALLOW, persona.toString(16));
      }
      assert.equal(run('personality', 0x0040000n /* ADDR_NO_RANDOMIZE */), refused(EPERM));
      assert.equal(run('personality', 0x0400000n /* READ_IMPLIES_EXEC */), refused(EPERM));
    });

    it('refuses vsock sockets only', () => {
      assert.equal(run('socket', 40n), refused(EPERM));
      assert.equal(run('socket', 2n /* AF_INET */), SECCOMP_RET_ALLOW);
      assert.equal(run('socket', 1n /* AF_UNIX */), SECCOMP_RET_ALLOW);
    });

    if (table.foreignAbiBit !== undefined) {
      it('kills x32 calls, whose numbers carry bit 30', () => {
        assert.equal(decide(program, 0x40000000 | nr('getpid'), table.auditArch), SECCOMP_RET_KILL_PROCESS);
        assert.equal(decide(program, 0x40000000 | nr('mount'), table.auditArch), SECCOMP_RET_KILL_PROCESS);
      });
    }
  });
}

describe('seccomp filter', () => {
  it('is encoded as struct sock_filter, little-endian', () => {
    const bytes = buildSeccompFilter('x64');
    assert.equal(bytes.length % 8, 0);
    // ld [4] (arch), then jeq AUDIT_ARCH_X86_64.
    assert.deepEqual(
      [...bytes.subarray(0, 16)],
      [0x20, 0, 0, 0, 4, 0, 0, 0, 0x15, 0, 1, 0, 0x3e, 0, 0, 0xc0],
    );
  });

  it('has a probe in the conformance suite for every refused call', () => {
    for (const rule of workspaceSeccompPolicy) assert.ok(refusedCallProbes[rule.call], rule.call);
  });

  it('refuses to build for an architecture without a table', () => {
    assert.throws(
      () => buildSeccompFilter('riscv64'),
      (error) => error instanceof NixSpaceError && error.code === 'SANDBOX_UNAVAILABLE',
    );
  });

  it('writes the filter to a file, replacing the previous one', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'nixspace-seccomp-file-'));
    try {
      const path = await writeSeccompFilter(dir, 'x64');
      assert.equal(await writeSeccompFilter(dir, 'x64'), path);
      assert.deepEqual(await readFile(path), buildSeccompFilter('x64'));
      assert.equal((await stat(path)).mode & 0o777, 0o644);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  const headers: [SeccompArch, string][] = [
    ['x64', '/usr/include/x86_64-linux-gnu/asm/unistd_64.h'],
    ['arm64', '/usr/include/asm-generic/unistd.h'],
  ];
  for (const [arch, header] of headers) {
    it(`numbers ${arch} calls as ${header} does`, {
      skip: !existsSync(header) && `${header} is missing`,
    }, () => {
      const text = readFileSync(header, 'utf8');
      for (const [call, number] of Object.entries(syscallTables[arch].numbers)) {
        const match = new RegExp(`#define __NR_${call}\\s+(\\d+)`).exec(text);
        assert.equal(Number(match?.[1]), number, call);
      }
    });
  }
});
