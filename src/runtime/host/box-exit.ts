// A box this server process did not start (an earlier server did, or runsc's sentry is nobody's
// child), watched from the host until it ends: its host pid, told apart from a later process that
// reuses the pid by the pid namespace it was in.
import type { SandboxExit } from '../sandbox.js';
import { pidNamespaceOf } from './host-processes.js';

export interface WatchedBox {
  pid: number;
  pidNamespace: number;
}

/** True while `pid` is still the process of the recorded pid namespace. */
export async function boxAlive(record: WatchedBox): Promise<boolean> {
  return (await pidNamespaceOf(record.pid)) === record.pidNamespace;
}

/**
 * Settles when the init of a sandbox this process did not start has gone: checked every second,
 * and at once when `check` is called (its agent's connection dropped, say).
 */
export function watchBoxExit(record: WatchedBox): {
  exited: Promise<SandboxExit>;
  check(): void;
} {
  return watchExit(() => boxAlive(record));
}

/** As watchBoxExit, for a box that says itself whether it still runs (a microVM's QEMU, say). */
export function watchExit(alive: () => Promise<boolean>): {
  exited: Promise<SandboxExit>;
  check(): void;
} {
  let check = () => {};
  const exited = new Promise<SandboxExit>((resolve) => {
    let checking = false;
    const timer = setInterval(() => check(), 1000);
    timer.unref();
    check = () => {
      if (checking) return;
      checking = true;
      void alive().then((running) => {
        checking = false;
        if (running) return;
        clearInterval(timer);
        // Not our child: how it ended is not ours to know.
        resolve({ code: null, signal: null });
      });
    };
  });
  return { exited, check: () => check() };
}
