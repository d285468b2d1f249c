// QEMU connects to the agent socket as the box's user, not as the server: every directory on the
// way must let that user search it, or QEMU would retry forever without a word. Checked up front.
import { constants, statSync } from 'node:fs';
import { dirname } from 'node:path';
import { NixSpaceError } from '../../../errors.js';
import type { SandboxUser } from '../../sandbox.js';

export function assertUserCanConnect(socketPath: string, user: SandboxUser): void {
  const dirs: string[] = [];
  for (let dir = dirname(socketPath); ; dir = dirname(dir)) {
    dirs.unshift(dir);
    if (dir === dirname(dir)) break;
  }
  for (const dir of dirs) {
    let stat: ReturnType<typeof statSync>;
    try {
      stat = statSync(dir);
    } catch (error) {
      throw new NixSpaceError('BAD_REQUEST', `the agent socket's directory ${dir} does not exist`, {
        cause: error,
      });
    }
    if (!allows(stat, user, constants.S_IXUSR, constants.S_IXGRP, constants.S_IXOTH)) {
      throw new NixSpaceError(
        'BAD_REQUEST',
        `uid ${user.uid} cannot reach the agent socket ${socketPath}: ${dir} is mode ` +
          `${(stat.mode & 0o777).toString(8)}, owner ${stat.uid}:${stat.gid}`,
        {
          detail: 'QEMU runs as the box user; give that user search permission on every directory on the way',
        },
      );
    }
  }
}

function allows(
  stat: { mode: number; uid: number; gid: number },
  user: SandboxUser,
  owner: number,
  group: number,
  other: number,
): boolean {
  if (stat.uid === user.uid) return (stat.mode & owner) !== 0;
  if (stat.gid === user.gid) return (stat.mode & group) !== 0;
  return (stat.mode & other) !== 0;
}
