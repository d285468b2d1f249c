// QEMU opens the shares and connects to the agent socket as the box's user, not as the server: a
// directory on the way that user may not search would make QEMU fail with a bare EACCES, or (for
// the socket, retried every second) wait forever without a word. Checked up front, with the
// directory that is in the way named; the driver first opens the server's own directories on the
// way for passing through (search, never listing nor writing).
import { constants, statSync } from 'node:fs';
import { chmod } from 'node:fs/promises';
import { dirname } from 'node:path';
import { NixSpaceError } from '../../../errors.js';
import type { SandboxUser } from '../../sandbox.js';
import type { MicrovmSpec } from './microvm-spec.js';

export function assertBoxUserCanReach(spec: MicrovmSpec): void {
  for (const [name, path] of pathsToReach(spec)) assertSearchable(name, path, spec.user);
}

/**
 * Gives everyone search permission (o+x) on each directory on the way to the box's paths that is
 * root's and closed to spec.user: the data directory, its run/agents, a test's mkdtemp. Nothing
 * becomes listable or writable; directories of other owners are left for the check to name.
 */
export async function openWayForBoxUser(spec: MicrovmSpec): Promise<void> {
  const done = new Set<string>();
  for (const [, path] of pathsToReach(spec)) {
    for (const dir of ancestors(path)) {
      if (done.has(dir)) continue;
      done.add(dir);
      let stat: ReturnType<typeof statSync>;
      try {
        stat = statSync(dir);
      } catch {
        break;
      }
      if (!stat.isDirectory() || stat.uid !== 0 || searchable(stat, spec.user)) continue;
      await chmod(dir, (stat.mode & 0o7777) | constants.S_IXOTH);
    }
  }
}

function pathsToReach(spec: MicrovmSpec): [string, string][] {
  const what: [string, string][] = [
    ['the agent socket', dirname(spec.agentSocket)],
    ['the workspace', spec.workspaceDir],
  ];
  if (spec.runtimeDir !== undefined) what.push(['the runtime directory', spec.runtimeDir]);
  for (const path of spec.readOnlyPaths ?? []) what.push(['a read-only path', path]);
  return what;
}

/** `/`, then each directory down to `path` itself. */
function ancestors(path: string): string[] {
  const dirs: string[] = [];
  for (let dir = path; ; dir = dirname(dir)) {
    dirs.unshift(dir);
    if (dir === dirname(dir)) break;
  }
  return dirs;
}

function assertSearchable(name: string, path: string, user: SandboxUser): void {
  for (const dir of ancestors(path)) {
    let stat: ReturnType<typeof statSync>;
    try {
      stat = statSync(dir);
    } catch (error) {
      throw new NixSpaceError('BAD_REQUEST', `${name} ${path} cannot be shared: ${dir} does not exist`, {
        cause: error,
      });
    }
    if (stat.isDirectory() && !searchable(stat, user)) {
      throw new NixSpaceError(
        'BAD_REQUEST',
        `uid ${user.uid} cannot reach ${name} ${path}: ${dir} is mode ` +
          `${(stat.mode & 0o777).toString(8)}, owner ${stat.uid}:${stat.gid}`,
        {
          detail: 'QEMU runs as the box user; give that user search permission on every directory on the way',
        },
      );
    }
  }
}

function searchable(stat: { mode: number; uid: number; gid: number }, user: SandboxUser): boolean {
  if (stat.uid === user.uid) return (stat.mode & constants.S_IXUSR) !== 0;
  if (stat.gid === user.gid) return (stat.mode & constants.S_IXGRP) !== 0;
  return (stat.mode & constants.S_IXOTH) !== 0;
}
