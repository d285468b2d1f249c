// What the server keeps of a running agent sandbox so that a later server process finds it again:
// the init's host pid and pid namespace (a pid reused by another process has another namespace),
// and the sandbox's own state directory. Written by the server into its own directory for the
// agent, which the sandbox sees read-only; read back with its schema all the same.
import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';

const recordName = 'box.json';

const boxRecord = z.object({
  pid: z.number().int().min(2),
  pidNamespace: z.number().int().min(1),
  stateDir: z.string().startsWith('/'),
});
export type BoxRecord = z.infer<typeof boxRecord>;

export async function writeBoxRecord(agentDir: string, record: BoxRecord): Promise<void> {
  await writeFile(join(agentDir, recordName), JSON.stringify(record), { mode: 0o644 });
}

export async function readBoxRecord(agentDir: string): Promise<BoxRecord | undefined> {
  try {
    return boxRecord.parse(JSON.parse(await readFile(join(agentDir, recordName), 'utf8')));
  } catch {
    return undefined;
  }
}

export async function removeBoxRecord(agentDir: string): Promise<void> {
  await rm(join(agentDir, recordName), { force: true });
}
