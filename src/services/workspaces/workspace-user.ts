// Who an account's workspaces are on the host: one unprivileged uid/gid per owner, derived from the
// account's id, far above the ids of host accounts and of the subordinate ranges tools hand out
// (100000–165535 and the like), so no workspace process shares an identity with anyone on the host.
// Within one owner the workspaces share it; they never see each other's files anyway.
import { createHash } from 'node:crypto';
import type { SandboxUser } from '../../runtime/sandbox.js';

/** 0x60000000 up: above host accounts and the subordinate ranges, below 2^31 with the span added. */
const firstId = 0x6000_0000;
const span = 2 ** 27;

export function workspaceUser(ownerId: string): SandboxUser {
  const id = firstId + (createHash('sha256').update(ownerId).digest().readUInt32BE(0) % span);
  return { uid: id, gid: id };
}
