// What the kernel has mounted where, read from /proc/self/mountinfo, and which image file backs
// a loop device: the truth about a volume, whichever process mounted it.
import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';

export interface MountEntry {
  mountPoint: string;
  source: string;
  fsType: string;
}

/** The mounts of this process's mount namespace, in the order they were made. */
export async function readMountTable(path = '/proc/self/mountinfo'): Promise<MountEntry[]> {
  return parseMountInfo(await readFile(path, 'utf8'));
}

export function parseMountInfo(text: string): MountEntry[] {
  const entries: MountEntry[] = [];
  for (const line of text.split('\n')) {
    // id parent major:minor root mount-point options [optional fields...] - type source super-options
    const fields = line.split(' ');
    const separator = fields.indexOf('-', 6);
    if (separator < 0) continue;
    entries.push({
      mountPoint: unescapeField(fields[4]!),
      fsType: unescapeField(fields[separator + 1] ?? ''),
      source: unescapeField(fields[separator + 2] ?? ''),
    });
  }
  return entries;
}

/** The mounts stacked at exactly this path, the visible one last. */
export async function mountsAt(path: string): Promise<MountEntry[]> {
  return (await readMountTable()).filter((entry) => entry.mountPoint === path);
}

/** The image file behind a loop device (`/dev/loop3`), or undefined when it has none. */
export async function loopBackingFile(device: string): Promise<string | undefined> {
  const name = basename(device);
  if (!/^loop\d+$/.test(name)) return undefined;
  const text = await readFile(`/sys/block/${name}/loop/backing_file`, 'utf8').catch(() => undefined);
  // An image deleted while attached reads as "<path> (deleted)".
  return text?.trim().replace(/ \(deleted\)$/, '');
}

/** mountinfo escapes space, tab, newline and backslash as octal (`\040`). */
function unescapeField(field: string): string {
  return field.replace(/\\([0-7]{3})/g, (_, octal: string) => String.fromCharCode(Number.parseInt(octal, 8)));
}
