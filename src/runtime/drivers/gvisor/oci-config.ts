// The OCI config.json of a box: its first process (the workspace user, no capability, no new
// privileges), its namespaces, the uid mapping that makes the workspace's files the spec user's on
// the host, and its limits.
//
// Identity, as measured with Debian 12's runsc (20221219): the box's user namespace maps inside
// root to host root and the workspace user (1000) to spec.user. The mapping is what the gofer
// (runsc's file server, which runs inside that namespace with file capabilities) creates files
// with, so what the init writes lands on the host owned by spec.user. Inside root must map to host
// root: the gofer, as inside root, has to reach mount sources behind root-only directories (the
// data directory), and runsc refuses a namespace without root mapped. The sentry itself (the
// sandbox kernel) runs as host nobody in a user namespace of its own.

import { WORKSPACE_USER } from '../../sandbox.js';
import { sandboxEnv } from '../../sandbox-env.js';
import { type BoxRootFiles, boxMounts, type OciMount } from './box-mounts.js';
import { AGENT_TRANSPORT, AGENT_TRANSPORT_ENV, type GvisorBoxSpec } from './box-spec.js';

const cfsPeriodUs = 100_000;

/**
 * Host tasks runsc may use per box process, beyond a base: with the ptrace platform every
 * address space inside is a host stub process, and each sentry thread that ran it traces a stub
 * thread of its own (about 10 host tasks per sleeping process measured). Reaching the host pids
 * limit crashes the whole box, so the box's own process limit (RLIMIT_NPROC, enforced by the
 * sentry with EAGAIN) comes first, and this one is only the backstop against runsc itself.
 */
const hostTasksPerProcess = 16;
const hostTasksBase = 512;

/** The cgroup runsc creates for a box, relative to runsc's own (so under the server's). */
export function boxCgroupPath(id: string): string {
  return `nixspace-gvisor/${id}`;
}

/** The parts of the config this module reads back; runsc reads the rest. */
export interface OciConfig {
  ociVersion: string;
  mounts: OciMount[];
  [field: string]: unknown;
}

export function ociConfig(spec: GvisorBoxSpec, rootDir: string, files: BoxRootFiles): OciConfig {
  const { memoryBytes, cpus, pids } = spec.limits;
  const env = sandboxEnv(spec, { [AGENT_TRANSPORT_ENV]: AGENT_TRANSPORT });
  const mapping = (hostId: number) => [
    { containerID: 0, hostID: 0, size: 1 },
    { containerID: WORKSPACE_USER.uid, hostID: hostId, size: 1 },
  ];
  const resources: Record<string, unknown> = {};
  if (memoryBytes !== undefined) {
    const limit = Math.floor(memoryBytes);
    // swap = memory + swap on cgroup v1: equal to the limit means no swap, so the limit holds.
    resources.memory = { limit, swap: limit };
  }
  if (cpus !== undefined) {
    resources.cpu = { quota: Math.max(1000, Math.round(cpus * cfsPeriodUs)), period: cfsPeriodUs };
  }
  if (pids !== undefined) {
    resources.pids = { limit: Math.floor(pids) * hostTasksPerProcess + hostTasksBase };
  }
  return {
    ociVersion: '1.0.2',
    process: {
      terminal: false,
      user: { uid: WORKSPACE_USER.uid, gid: WORKSPACE_USER.gid, additionalGids: [] },
      args: [...spec.init],
      env: Object.entries(env).map(([name, value]) => `${name}=${value}`),
      cwd: '/',
      capabilities: { bounding: [], effective: [], inheritable: [], permitted: [], ambient: [] },
      noNewPrivileges: true,
      rlimits:
        pids === undefined
          ? []
          : [
              {
                type: 'RLIMIT_NPROC',
                hard: Math.max(1, Math.floor(pids)),
                soft: Math.max(1, Math.floor(pids)),
              },
            ],
    },
    root: { path: rootDir, readonly: true },
    hostname: spec.hostname ?? 'workspace',
    mounts: boxMounts(spec, files),
    linux: {
      namespaces: [
        { type: 'pid' },
        { type: 'ipc' },
        { type: 'uts' },
        { type: 'mount' },
        { type: 'user' },
        // 'host' shares the host's stack (runsc --network=host); 'none' keeps only loopback.
        ...(spec.network === 'none' ? [{ type: 'network' }] : []),
      ],
      uidMappings: mapping(spec.user.uid),
      gidMappings: mapping(spec.user.gid),
      cgroupsPath: boxCgroupPath(spec.id),
      resources,
    },
  };
}
