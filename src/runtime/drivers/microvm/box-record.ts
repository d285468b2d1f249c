// Where a box lives on the host, and the record that lets a later server process find it again.
// `<stateRoot>/<id>/` belongs to root: the record (box.json), the pidfile and QEMU's stderr log,
// none of which the box's user can touch. Its `vm/` directory belongs to the box's user: QEMU works
// there (monitor socket, console log, initrd, hibernation image).
import { readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { NixSpaceError } from '../../../errors.js';
import type { MicrovmSpec } from './microvm-spec.js';
import { vmFiles } from './qemu-args.js';

export interface BoxPaths {
  boxDir: string;
  record: string;
  pidfile: string;
  qemuLog: string;
  vmDir: string;
  qmp: string;
  console: string;
  initrd: string;
  hibernation: string;
}

/** A Unix socket path longer than this cannot be connected to (sun_path holds 108 bytes). */
const maxSocketPath = 107;

export function boxPaths(stateRoot: string, id: string): BoxPaths {
  const boxDir = join(stateRoot, id);
  const vmDir = join(boxDir, 'vm');
  const paths = {
    boxDir,
    record: join(boxDir, 'box.json'),
    pidfile: join(boxDir, 'qemu.pid'),
    qemuLog: join(boxDir, 'qemu.log'),
    vmDir,
    qmp: join(vmDir, vmFiles.qmp),
    console: join(vmDir, vmFiles.console),
    initrd: join(vmDir, vmFiles.initrd),
    hibernation: join(vmDir, vmFiles.hibernation),
  };
  if (Buffer.byteLength(paths.qmp) > maxSocketPath) {
    throw new NixSpaceError('BAD_REQUEST', `the box state directory ${stateRoot} is too long a path`, {
      detail: `${paths.qmp} exceeds the ${maxSocketPath} bytes a Unix socket path may have`,
    });
  }
  return paths;
}

/** A QEMU process, told apart from a later process that reuses its pid by its start time. */
export interface QemuProcess {
  pid: number;
  /** Field 22 of /proc/<pid>/stat (clock ticks after boot). */
  startTime: string;
}

export type BoxRecord =
  | { state: 'running'; spec: MicrovmSpec; process: QemuProcess }
  | { state: 'hibernated'; spec: MicrovmSpec; imageBytes: number };

export async function writeRecord(paths: BoxPaths, record: BoxRecord): Promise<void> {
  const partial = `${paths.record}.partial`;
  await writeFile(partial, `${JSON.stringify(record, null, 2)}\n`, { mode: 0o600 });
  await rename(partial, paths.record);
  if (record.state === 'running') await writeFile(paths.pidfile, `${record.process.pid}\n`, { mode: 0o600 });
}

export async function readRecord(paths: BoxPaths): Promise<BoxRecord | undefined> {
  let text: string;
  try {
    text = await readFile(paths.record, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  return JSON.parse(text) as BoxRecord;
}

export async function processStartTime(pid: number): Promise<string | undefined> {
  try {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may hold spaces and parentheses; fields after it do not.
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return undefined;
  }
}

/** True while the recorded QEMU process is alive and still that process (not a zombie). */
export async function isAlive(process: QemuProcess): Promise<boolean> {
  try {
    const stat = await readFile(`/proc/${process.pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return fields[0] !== 'Z' && fields[19] === process.startTime;
  } catch {
    return false;
  }
}
