// What makes one box's guest different from another's: /.nixspace/boot.sh, sourced by the guest
// init (guest-init-script.ts), travels in a small cpio archive appended to the cached initramfs.
// The result is one initrd file per box, written into the box's QEMU directory. The spec's
// read-only files travel in it too, at their host paths.
import { constants } from 'node:fs';
import { appendFile, copyFile, open } from 'node:fs/promises';
import { dirname } from 'node:path';
import { NixSpaceError } from '../../../errors.js';
import { AGENT_TRANSPORT_ENV } from '../../../wire/agent.js';
import { shellQuote as q } from '../../host/shell-quote.js';
import { sandboxEnv } from '../../sandbox-env.js';
import type { BoxShare } from './box-shares.js';
import { type CpioEntry, cpioArchive } from './cpio-newc.js';
import { agentPortName, type MicrovmSpec } from './microvm-spec.js';

/** What the agent reads to find its stream: a serial port, by its /dev path in the guest. */
export const agentTransport = `serial:/dev/virtio-ports/${agentPortName}`;

export function bootScript(spec: MicrovmSpec, shares: readonly BoxShare[]): string {
  const env = sandboxEnv(spec, { [AGENT_TRANSPORT_ENV]: agentTransport });
  const lines: string[] = [];
  if (spec.mountShares !== false) {
    for (const share of shares) {
      lines.push(`share ${share.tag} ${q(share.hostPath)} ${share.writable ? 'rw' : 'ro'} ${share.cache}`);
    }
  }
  lines.push(`box_hostname ${q(spec.hostname ?? spec.id.slice(0, 63))}`);
  lines.push(`box_user ${q(env.HOME ?? spec.workspaceDir)}`);
  if (spec.network === 'host') lines.push('box_network_host');
  lines.push('box_ports');
  if (spec.limits.pids !== undefined) lines.push(`box_pids ${Math.max(1, Math.floor(spec.limits.pids))}`);
  const assignments = Object.entries(env).map(([key, value]) => q(`${key}=${value}`));
  // busybox env, from the initramfs: it is there even when no share is mounted.
  const argv = ['/.nixspace/bin/env', '-i', ...assignments, ...spec.init.map(q)];
  lines.push(`box_run ${q(spec.workspaceDir)} ${argv.join(' ')}`);
  return `${lines.join('\n')}\n`;
}

export async function writeBoxInitrd(
  path: string,
  baseInitramfs: string,
  spec: MicrovmSpec,
  shares: readonly BoxShare[],
  files: readonly string[] = [],
): Promise<void> {
  const entries: CpioEntry[] = [
    { kind: 'file', path: '.nixspace/boot.sh', data: Buffer.from(bootScript(spec, shares)), mode: 0o644 },
  ];
  const dirs = new Set<string>();
  for (const file of files) {
    for (let dir = dirname(file); dir !== '/' && !dirs.has(dir); dir = dirname(dir)) dirs.add(dir);
    entries.push({ kind: 'file', path: file, data: await readCopied(file), mode: 0o444 });
  }
  // Parents first: the kernel makes no directory for a file whose parent is missing.
  const parents = [...dirs].sort((a, b) => a.length - b.length);
  entries.unshift(...parents.map((path): CpioEntry => ({ kind: 'dir', path, mode: 0o755 })));
  const config = cpioArchive(entries);
  await copyFile(baseInitramfs, path);
  await appendFile(path, config);
}

/** The largest read-only file a box's initrd carries (a package.json, not a program). */
const maxCopiedBytes = 1 << 20;

async function readCopied(path: string): Promise<Buffer> {
  const handle = await open(path, constants.O_RDONLY | constants.O_NOFOLLOW);
  try {
    const { size } = await handle.stat();
    if (size > maxCopiedBytes) {
      throw new NixSpaceError(
        'BAD_REQUEST',
        `the read-only file ${path} is ${size} bytes: a box carries files of at most ${maxCopiedBytes} bytes (share its directory instead)`,
      );
    }
    return await handle.readFile();
  } finally {
    await handle.close();
  }
}
