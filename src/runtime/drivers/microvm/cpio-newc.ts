// Writes a cpio archive in the "newc" format the kernel unpacks as an initramfs, so building one
// needs no cpio program. The kernel also accepts archives concatenated one after the other, which
// is how a box's own files go after the shared cached part.

export type CpioEntry =
  | { kind: 'dir'; path: string; mode?: number }
  | { kind: 'file'; path: string; data: Buffer; mode?: number }
  | { kind: 'symlink'; path: string; target: string };

const typeBits = { dir: 0o040000, file: 0o100000, symlink: 0o120000 } as const;

export function cpioArchive(entries: readonly CpioEntry[]): Buffer {
  const parts: Buffer[] = [];
  let ino = 1;
  const add = (path: string, mode: number, data: Buffer, nlink: number) => {
    const name = Buffer.from(`${path}\0`);
    const fields = [ino++, mode, 0, 0, nlink, 0, data.length, 0, 0, 0, 0, name.length, 0];
    const header = `070701${fields.map((value) => value.toString(16).padStart(8, '0')).join('')}`;
    parts.push(Buffer.from(header), name, pad(110 + name.length));
    parts.push(data, pad(data.length));
  };
  for (const entry of entries) {
    const path = entry.path.replace(/^\/+/, '');
    if (entry.kind === 'dir') add(path, typeBits.dir | (entry.mode ?? 0o755), Buffer.alloc(0), 2);
    else if (entry.kind === 'file') add(path, typeBits.file | (entry.mode ?? 0o644), entry.data, 1);
    else add(path, typeBits.symlink | 0o777, Buffer.from(entry.target), 1);
  }
  add('TRAILER!!!', 0, Buffer.alloc(0), 1);
  return Buffer.concat(parts);
}

/** newc aligns every header+name and every file body to 4 bytes. */
function pad(length: number): Buffer {
  return Buffer.alloc((4 - (length % 4)) % 4);
}
