// Picks the sandbox driver at startup. Isolation is the default; running without it needs the
// explicit --unsafe-no-sandbox, and the refusal says exactly what to install.
import { BubblewrapDriver } from './drivers/bubblewrap/bubblewrap-driver.js';
import { ProcessDriver } from './drivers/process/process-driver.js';
import type { SandboxDriver } from './sandbox.js';

export interface SelectDriverOptions {
  unsafeNoSandbox: boolean;
  /** The isolating driver to probe; tests pass one configured to fail. */
  bubblewrap?: SandboxDriver;
}

/** Throws the bubblewrap probe's NixSpaceError('SANDBOX_UNAVAILABLE') unless unsafeNoSandbox. */
export async function selectSandboxDriver(options: SelectDriverOptions): Promise<SandboxDriver> {
  if (options.unsafeNoSandbox) return new ProcessDriver();
  const bubblewrap = options.bubblewrap ?? new BubblewrapDriver();
  await bubblewrap.probe();
  return bubblewrap;
}
