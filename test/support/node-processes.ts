// Finding a Node program (code-server) on the host by an argument of its command line.
import { readdir, readFile } from 'node:fs/promises';

/** The host pid of a Node process whose command line has this argument. */
export async function processWithArgument(argument: string): Promise<number | undefined> {
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const cmdline = await readFile(`/proc/${entry}/cmdline`, 'utf8').catch(() => '');
    const args = cmdline.split('\0');
    if (args.includes(argument) && args[0]?.endsWith('/node')) return Number(entry);
  }
  return undefined;
}
