// Classic BPF, the instruction set of a seccomp filter: struct sock_filter { u16 code; u8 jt;
// u8 jf; u32 k; } in host (little-endian) byte order, as the kernel reads it from
// struct sock_fprog and bubblewrap's --seccomp reads it from a file descriptor.

export interface BpfInstruction {
  code: number;
  jt: number;
  jf: number;
  k: number;
}

export const BPF_LD_W_ABS = 0x20;
export const BPF_JMP_JEQ_K = 0x15;
export const BPF_JMP_JGE_K = 0x35;
export const BPF_JMP_JSET_K = 0x45;
export const BPF_RET_K = 0x06;

/** The kernel's limit on a filter's length (BPF_MAXINSNS). */
export const bpfMaxInstructions = 4096;
export const bpfInstructionSize = 8;

export const load = (offset: number): BpfInstruction => ({ code: BPF_LD_W_ABS, jt: 0, jf: 0, k: offset });
export const ret = (value: number): BpfInstruction => ({ code: BPF_RET_K, jt: 0, jf: 0, k: value >>> 0 });
/** if (A == k) skip jt instructions, else skip jf. */
export const jeq = (k: number, jt: number, jf: number): BpfInstruction => ({
  code: BPF_JMP_JEQ_K,
  jt,
  jf,
  k: k >>> 0,
});
export const jge = (k: number, jt: number, jf: number): BpfInstruction => ({
  code: BPF_JMP_JGE_K,
  jt,
  jf,
  k: k >>> 0,
});
/** if (A & k) skip jt instructions, else skip jf. */
export const jset = (k: number, jt: number, jf: number): BpfInstruction => ({
  code: BPF_JMP_JSET_K,
  jt,
  jf,
  k: k >>> 0,
});

function isConditionalJump(code: number): boolean {
  return code === BPF_JMP_JEQ_K || code === BPF_JMP_JGE_K || code === BPF_JMP_JSET_K;
}

export function encodeBpf(program: readonly BpfInstruction[]): Buffer {
  if (program.length === 0 || program.length > bpfMaxInstructions) {
    throw new RangeError(`a filter has 1 to ${bpfMaxInstructions} instructions, not ${program.length}`);
  }
  const buffer = Buffer.alloc(program.length * bpfInstructionSize);
  program.forEach((insn, index) => {
    // A conditional jump reaches at most 255 instructions ahead, and never past the end.
    const jumps = isConditionalJump(insn.code) ? [insn.jt, insn.jf] : [];
    for (const skip of jumps) {
      if (!Number.isInteger(skip) || skip < 0 || skip > 255 || index + 1 + skip >= program.length) {
        throw new RangeError(`instruction ${index} jumps out of the filter (${skip})`);
      }
    }
    const offset = index * bpfInstructionSize;
    buffer.writeUInt16LE(insn.code, offset);
    buffer.writeUInt8(insn.jt, offset + 2);
    buffer.writeUInt8(insn.jf, offset + 3);
    buffer.writeUInt32LE(insn.k >>> 0, offset + 4);
  });
  return buffer;
}

export function decodeBpf(buffer: Buffer): BpfInstruction[] {
  if (buffer.length % bpfInstructionSize !== 0) throw new RangeError('not a whole number of instructions');
  const program: BpfInstruction[] = [];
  for (let offset = 0; offset < buffer.length; offset += bpfInstructionSize) {
    program.push({
      code: buffer.readUInt16LE(offset),
      jt: buffer.readUInt8(offset + 2),
      jf: buffer.readUInt8(offset + 3),
      k: buffer.readUInt32LE(offset + 4),
    });
  }
  return program;
}
