// Polls a condition until it holds: a box's QEMU is not our child after a restart, so there is no
// event to await for its monitor coming up or its process going away.
import { NixSpaceError } from '../../../errors.js';
import { delay } from '../../host/host-processes.js';

export async function waitFor<T>(
  check: () => Promise<T | undefined | false>,
  options: { timeoutMs: number; what: string; signal?: AbortSignal; intervalMs?: number },
): Promise<T> {
  const deadline = Date.now() + options.timeoutMs;
  for (;;) {
    options.signal?.throwIfAborted();
    const value = await check();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) {
      throw new NixSpaceError(
        'SANDBOX_FAILED',
        `timed out after ${options.timeoutMs} ms waiting for ${options.what}`,
      );
    }
    await delay(options.intervalMs ?? 20);
  }
}
