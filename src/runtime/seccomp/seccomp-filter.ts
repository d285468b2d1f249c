// The workspace seccomp filter as a classic BPF program, ready for bubblewrap's `--seccomp FD`
// (bwrap sets no_new_privs and installs it right before it execs the command; every child
// inherits it and none can remove it). Built here, without libseccomp, from the policy in
// seccomp-policy.ts.
import { randomBytes } from 'node:crypto';
import { rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { NixSpaceError } from '../../errors.js';
import { type BpfInstruction, encodeBpf, jeq, jge, jset, load, ret } from './bpf.js';
import { type SeccompRule, workspaceSeccompPolicy } from './seccomp-policy.js';
import { hostSeccompArch, type SeccompArch, syscallTables } from './syscall-numbers.js';

export const SECCOMP_RET_KILL_PROCESS = 0x80000000;
export const SECCOMP_RET_ERRNO = 0x00050000;
export const SECCOMP_RET_ALLOW = 0x7fff0000;

/** Offsets in struct seccomp_data { int nr; u32 arch; u64 instruction_pointer; u64 args[6]; }. */
const nrOffset = 0;
const archOffset = 4;
/** The low 32 bits of args[index] (little-endian). */
const argOffset = (index: number) => 16 + 8 * index;

/** The filter's instructions for one architecture. */
export function seccompProgram(
  arch: SeccompArch,
  policy: readonly SeccompRule[] = workspaceSeccompPolicy,
): BpfInstruction[] {
  const table = syscallTables[arch];
  const program: BpfInstruction[] = [
    // A process of another ABI (a 32-bit binary, int 0x80 on x86_64) has other syscall numbers:
    // it is killed, as libseccomp does with an architecture its filter does not name.
    load(archOffset),
    jeq(table.auditArch, 1, 0),
    ret(SECCOMP_RET_KILL_PROCESS),
    load(nrOffset),
  ];
  if (table.foreignAbiBit !== undefined) {
    // x32 shares x86_64's audit arch and marks its numbers with a bit; -1 is no call at all (a
    // tracer skipping one) and passes.
    program.push(jge(table.foreignAbiBit, 0, 2), jeq(0xffffffff, 1, 0), ret(SECCOMP_RET_KILL_PROCESS));
  }
  const seen = new Set<string>();
  for (const rule of policy) {
    if (seen.has(rule.call)) throw new Error(`the seccomp policy names ${rule.call} twice`);
    seen.add(rule.call);
    const nr = table.numbers[rule.call];
    // A call this architecture does not have cannot be made.
    if (nr === undefined) continue;
    program.push(...ruleBlock(nr, rule));
  }
  program.push(ret(SECCOMP_RET_ALLOW));
  return program;
}

/** Instructions deciding one call; they fall through to the next rule when the number differs. */
function ruleBlock(nr: number, rule: SeccompRule): BpfInstruction[] {
  const refused = ret(SECCOMP_RET_ERRNO | rule.errno);
  const allowed = ret(SECCOMP_RET_ALLOW);
  const { when } = rule;
  let body: BpfInstruction[];
  switch (when.kind) {
    case 'always':
      body = [refused];
      break;
    case 'argIn':
    case 'argNotIn': {
      const count = when.values.length;
      // Each comparison jumps to the last instruction; falling through all of them reaches the
      // one before it.
      const compare = when.values.map((value, i) => jeq(value, count - i, 0));
      const [onMatch, onNoMatch] = when.kind === 'argIn' ? [refused, allowed] : [allowed, refused];
      body = [load(argOffset(when.index)), ...compare, onNoMatch, onMatch];
      break;
    }
    case 'argHasBits':
      body = [load(argOffset(when.index)), jset(when.bits, 1, 0), allowed, refused];
      break;
  }
  return [jeq(nr, 0, body.length), ...body];
}

/** The filter for an architecture (Node's name for it; this host's by default), as bwrap reads it. */
export function buildSeccompFilter(arch: string = process.arch): Buffer {
  const seccompArch = hostSeccompArch(arch);
  if (seccompArch === undefined) {
    throw new NixSpaceError(
      'SANDBOX_UNAVAILABLE',
      `the workspace seccomp filter has no syscall table for the ${arch} architecture`,
    );
  }
  return encodeBpf(seccompProgram(seccompArch));
}

/**
 * Writes the filter to `dir` (a directory of the server's that no sandbox can write) and returns
 * its path, for `bwrap --seccomp 9 9<path`. The file is replaced atomically, so a sandbox starting
 * meanwhile reads either the old filter or the new one, never a part.
 */
export async function writeSeccompFilter(dir: string, arch: string = process.arch): Promise<string> {
  const filter = buildSeccompFilter(arch);
  const path = join(dir, 'workspace-seccomp.bpf');
  const partial = `${path}.${randomBytes(6).toString('hex')}.tmp`;
  try {
    await writeFile(partial, filter, { mode: 0o644, flag: 'wx' });
    await rename(partial, path);
  } catch (error) {
    await rm(partial, { force: true });
    throw error;
  }
  return path;
}
