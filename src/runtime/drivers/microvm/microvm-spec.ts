// What a microVM box is asked to be: a sandbox spec (who, which host paths, limits) plus the argv
// of the guest's first real process (the workspace agent) and the host socket it dials.
import { isAbsolute } from 'node:path';
import { NixSpaceError } from '../../../errors.js';
import type { SandboxSpec } from '../../sandbox.js';
import { assertSandboxId } from '../../sandbox-id.js';
import { assertSandboxUser } from '../bubblewrap/workspace-user.js';

export interface MicrovmSpec extends SandboxSpec {
  /**
   * argv of the guest's first real process, run as the workspace user (uid/gid 1000, no
   * capabilities) in workspaceDir: in practice `['/usr/bin/node', '<agent.js>']`. The guest sees
   * the host's /usr read-only, so any host program under /usr can be named here.
   */
  init: readonly string[];
  /**
   * Host path of the Unix socket the server listens on. QEMU (as spec.user) connects to it and
   * reconnects every second while it is absent, so the directories on the way must let spec.user
   * through (search permission) and the socket must let it connect.
   */
  agentSocket: string;
  /**
   * False boots the guest without mounting any host share (not even /usr): init then only has the
   * initramfs's busybox (`/.nixspace/bin/busybox`). QEMU 7.2 refuses to save a VM while a 9p
   * share is mounted, so only such a box can hibernate. Default true.
   */
  mountShares?: boolean;
}

/** Guest RAM when the spec sets no memory limit. */
export const defaultMemoryBytes = 512 * 1024 * 1024;

/** The virtio-serial port name the agent's stream arrives on in the guest. */
export const agentPortName = 'nixspace.agent';

export function assertMicrovmSpec(spec: MicrovmSpec): void {
  assertSandboxId(spec.id);
  assertSandboxUser(spec.user);
  const paths = [spec.workspaceDir, spec.agentSocket, ...(spec.readOnlyPaths ?? [])];
  if (spec.runtimeDir !== undefined) paths.push(spec.runtimeDir);
  for (const path of paths) {
    if (!isAbsolute(path)) throw new NixSpaceError('BAD_REQUEST', `a box path must be absolute: ${path}`);
  }
  if (spec.init.length === 0) throw new NixSpaceError('BAD_REQUEST', 'a box needs an init program');
  if (spec.init[0] === undefined || !isAbsolute(spec.init[0])) {
    throw new NixSpaceError('BAD_REQUEST', `a box's init program must be an absolute path: ${spec.init[0]}`);
  }
  if (spec.init[0].includes('=')) {
    // env(1) in the guest would take it for an assignment.
    throw new NixSpaceError('BAD_REQUEST', `a box's init program path cannot contain '=': ${spec.init[0]}`);
  }
  const { memoryBytes, cpus } = spec.limits;
  if (memoryBytes !== undefined && memoryBytes < 64 * 1024 * 1024) {
    throw new NixSpaceError('BAD_REQUEST', `a box needs at least 64 MiB of memory, not ${memoryBytes} bytes`);
  }
  if (cpus !== undefined && !(cpus > 0)) {
    throw new NixSpaceError('BAD_REQUEST', `a box needs a positive number of cpus, not ${cpus}`);
  }
  if (spec.hostname !== undefined && !/^[A-Za-z0-9][A-Za-z0-9.-]{0,62}$/.test(spec.hostname)) {
    throw new NixSpaceError('BAD_REQUEST', `invalid hostname ${JSON.stringify(spec.hostname)}`);
  }
}
