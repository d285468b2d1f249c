// git on a workspace's checkout, run by a test from the host to look at what the workspace did. The
// checkout belongs to the workspace's unprivileged user, so git is told the directory is safe, and
// whatever it wrote (an index, a file it checked out) is handed back to that user.
import { execFile } from 'node:child_process';
import { stat } from 'node:fs/promises';
import { promisify } from 'node:util';

const exec = promisify(execFile);

export async function workspaceGit(repo: string, args: readonly string[]): Promise<string> {
  const { stdout } = await exec('git', ['-c', 'safe.directory=*', '-C', repo, ...args]);
  const { uid, gid } = await stat(repo);
  await exec('chown', ['-R', '-P', `${uid}:${gid}`, '--', repo]);
  return stdout;
}
