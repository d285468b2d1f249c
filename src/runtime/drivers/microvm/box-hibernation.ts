// Hibernation: the VM's whole state (RAM, devices) saved into one file by QEMU's migration to an
// `exec:` target, and a fresh QEMU started with `-incoming` from it. The guest is paused before
// saving, so the stream is a single pass with no dirty-page rounds. QEMU 7.2 refuses while a 9p
// share is mounted in the guest (it cannot carry the guest's open files across), and says so.
import { NixSpaceError } from '../../../errors.js';
import { vmFiles } from './qemu-args.js';
import type { QmpClient } from './qmp-client.js';
import { waitFor } from './wait-for.js';

interface MigrationInfo {
  status?: string;
  'error-desc'?: string;
  'blocked-reasons'?: string[];
}

/** Saves the paused VM into vmFiles.hibernation (in QEMU's working directory). */
export async function saveState(qmp: QmpClient, id: string, timeoutMs = 120_000): Promise<void> {
  const before = await qmp.execute<MigrationInfo>('query-migrate');
  if (before['blocked-reasons']?.length) {
    throw new NixSpaceError(
      'SANDBOX_FAILED',
      `box ${id} cannot hibernate: ${before['blocked-reasons'].join('; ')}`,
    );
  }
  // The default cap (32 MiB/s) is for live migration over a network, not a local file.
  await qmp.execute('migrate-set-parameters', { 'max-bandwidth': 64 * 1024 ** 3 });
  await qmp.execute('stop');
  try {
    await qmp.execute('migrate', { uri: `exec:cat > ${vmFiles.hibernation}` });
    const done = await waitFor(
      async () => {
        const info = await qmp.execute<MigrationInfo>('query-migrate');
        return info.status === 'completed' || info.status === 'failed' || info.status === 'cancelled'
          ? info
          : undefined;
      },
      { timeoutMs, what: `the hibernation image of box ${id}`, intervalMs: 10 },
    );
    if (done.status !== 'completed') {
      throw new NixSpaceError(
        'SANDBOX_FAILED',
        `box ${id} could not be saved: ${done['error-desc'] ?? done.status}`,
      );
    }
  } catch (error) {
    await qmp.execute('cont').catch(() => undefined);
    throw error;
  }
}

/**
 * Waits for an `-incoming` QEMU to have loaded the image, then runs the guest: it was paused when
 * saved, and QEMU restores that run state rather than starting it.
 */
export async function runRestored(qmp: QmpClient, id: string, timeoutMs = 120_000): Promise<void> {
  const status = await waitFor(
    async () => {
      const { status } = await qmp.execute<{ status: string }>('query-status');
      return status === 'inmigrate' ? undefined : status;
    },
    { timeoutMs, what: `box ${id} to load its hibernation image`, intervalMs: 10 },
  );
  if (status === 'paused' || status === 'postmigrate' || status === 'prelaunch') await qmp.execute('cont');
  else if (status !== 'running') {
    throw new NixSpaceError('SANDBOX_FAILED', `box ${id} did not restore from its image (QEMU is ${status})`);
  }
}
