// Starts a box's QEMU so that it outlives the server: in a session of its own, not waited for,
// with its stderr in a root-owned log. A root shell joins the box's cgroups, then setpriv makes it
// the box's user for good and unshare gives it a user namespace in which that user is uid 1000,
// so the guest sees the workspace's files as the workspace user's and creates them as spec.user.
import { spawn } from 'node:child_process';
import { open, readFile } from 'node:fs/promises';
import { NixSpaceError } from '../../../errors.js';
import type { SandboxCgroup } from '../../cgroups/sandbox-cgroup.js';
import { killQuietly } from '../../host/host-processes.js';
import { shellQuote as q } from '../../host/shell-quote.js';
import { WORKSPACE_USER } from '../../sandbox.js';
import { type BoxPaths, isAlive, processStartTime, type QemuProcess } from './box-record.js';
import type { MicrovmTools } from './guest-kernel.js';
import type { MicrovmSpec } from './microvm-spec.js';
import { QmpClient } from './qmp-client.js';
import { waitFor } from './wait-for.js';

export interface LaunchInput {
  spec: MicrovmSpec;
  paths: BoxPaths;
  tools: MicrovmTools;
  argv: readonly string[];
  cgroup: SandboxCgroup | undefined;
  signal?: AbortSignal;
  timeoutMs?: number;
  /** Called once QEMU's pid is known, before waiting for it: to record it against a crash. */
  onSpawned?: (process: QemuProcess) => Promise<void>;
}

export async function launchQemu(input: LaunchInput): Promise<{ process: QemuProcess; qmp: QmpClient }> {
  const { spec, paths, tools, argv, cgroup } = input;
  const { uid, gid } = spec.user;
  const script = [
    ...(cgroup?.joinScript() ?? []),
    `exec ${q(tools.setpriv)} --reuid=${uid} --regid=${gid} --clear-groups --inh-caps=-all --bounding-set=-all ` +
      `--no-new-privs -- ${q(tools.unshare)} --user --map-user=${WORKSPACE_USER.uid} ` +
      `--map-group=${WORKSPACE_USER.gid} -- "$@"`,
  ].join('\n');
  const log = await open(paths.qemuLog, 'w', 0o600);
  const child = spawn('/bin/sh', ['-c', script, 'nixspace-box', ...argv], {
    cwd: paths.vmDir,
    detached: true,
    stdio: ['ignore', log.fd, log.fd],
    env: { PATH: '/usr/sbin:/usr/bin:/sbin:/bin' },
  });
  await log.close();
  child.unref();
  const pid = child.pid;
  let exited = false;
  child.once('exit', () => {
    exited = true;
  });
  const failed = async (why: string, cause?: unknown) =>
    new NixSpaceError('SANDBOX_FAILED', `QEMU of box ${spec.id} ${why}`, {
      detail: (await readFile(paths.qemuLog, 'utf8').catch(() => '')).trim() || String(cause ?? ''),
      cause,
    });
  const startTime = pid === undefined ? undefined : await processStartTime(pid);
  if (pid === undefined || startTime === undefined) throw await failed('did not start');
  const process = { pid, startTime };
  try {
    await input.onSpawned?.(process);
    const qmp = await waitFor(
      async () => {
        if (exited || !(await isAlive(process))) throw await failed('exited while starting');
        return QmpClient.connect(paths.qmp).catch(() => undefined);
      },
      {
        timeoutMs: input.timeoutMs ?? 60_000,
        what: `QEMU's monitor of box ${spec.id}`,
        signal: input.signal,
      },
    );
    return { process, qmp };
  } catch (error) {
    // It may have exited already: the error then says why, not the kill.
    killQuietly(pid);
    throw error instanceof NixSpaceError ? error : await failed('did not come up', error);
  }
}
