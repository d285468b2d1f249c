// The files a sandbox gets in place of the host's account database: /etc/passwd and /etc/group
// name the workspace user and nobody else the sandbox could look up (the host's accounts, their
// homes and shells stay unknown inside). Written once per sandbox into a directory only root can
// enter, and bound read-only over /etc inside.

import { chmod, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { WORKSPACE_USER } from '../../sandbox.js';

export interface SandboxEtc {
  dir: string;
  /** Host path → path inside, each bound read-only. */
  files: [host: string, inside: string][];
}

/** Writes the account files for a sandbox whose user's home is `home`. */
export async function writeSandboxEtc(dir: string, home: string): Promise<SandboxEtc> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const { name, uid, gid } = WORKSPACE_USER;
  if (/[:\n]/.test(home)) throw new Error(`home directory cannot be written to /etc/passwd: ${home}`);
  const passwd = [
    'root:x:0:0:root:/nonexistent:/usr/sbin/nologin',
    `${name}:x:${uid}:${gid}:Workspace user:${home}:/bin/bash`,
    'nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin',
    '',
  ].join('\n');
  const group = ['root:x:0:', `${name}:x:${gid}:`, 'nogroup:x:65534:', ''].join('\n');
  const files: SandboxEtc['files'] = [];
  for (const [file, text] of [
    ['passwd', passwd],
    ['group', group],
  ] as const) {
    const path = join(dir, file);
    await writeFile(path, text, { mode: 0o644 });
    // The mode a umask may have narrowed: the workspace user must read its own passwd.
    await chmod(path, 0o644);
    files.push([path, `/etc/${file}`]);
  }
  return { dir, files };
}
