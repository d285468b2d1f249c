// git on a workspace's checkout, run by a test from the host to look at what the workspace did. The
// checkout belongs to the workspace's unprivileged user, so git is told the directory is safe, and
// whatever it wrote (an index, a file it checked out) is handed back to that user.
import { stat } from 'node:fs/promises';
import { giveTree } from '../../src/runtime/host/give-tree.js';
import { git } from './git-fixtures.js';

export async function workspaceGit(repo: string, args: readonly string[]): Promise<string> {
  const output = await git(['-c', 'safe.directory=*', '-C', repo, ...args]);
  const { uid, gid } = await stat(repo);
  await giveTree(repo, { uid, gid });
  return output;
}
