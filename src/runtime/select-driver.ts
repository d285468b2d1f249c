// Picks the sandbox driver at startup: bubblewrap by default, gVisor with --sandbox gvisor, QEMU
// microVMs with --sandbox microvm.
// Isolation is the default; running without it needs the explicit --unsafe-no-sandbox, and the
// refusal says exactly what to install. Likewise workspaces
// run within their CPU, memory and pids limits unless --unsafe-no-limits says otherwise.
import { NixSpaceError } from '../errors.js';
import { BubblewrapDriver } from './drivers/bubblewrap/bubblewrap-driver.js';
import { GvisorDriver } from './drivers/gvisor/gvisor-driver.js';
import { MicrovmDriver } from './drivers/microvm/microvm-driver.js';
import { ProcessDriver } from './drivers/process/process-driver.js';
import type { SandboxDriver } from './sandbox.js';
import { SandboxDrivers } from './sandbox-drivers.js';

/** The isolating drivers a server may offer beside its default, when this host can run them. */
const isolatingDrivers = ['bubblewrap', 'gvisor', 'microvm'] as const;

export interface SelectDriverOptions {
  unsafeNoSandbox: boolean;
  /** The isolating driver (default bubblewrap). */
  sandbox?: 'bubblewrap' | 'gvisor' | 'microvm';
  /** A root-only directory of the server's for the gVisor boxes' state (needed for gvisor). */
  gvisorStateDir?: string;
  /** A root-only directory of the server's for the microVM boxes' state (needed for microvm). */
  microvmStateDir?: string;
  /** Accept a host whose cgroups cannot enforce the limits (default false). */
  unsafeNoLimits?: boolean;
  /** The isolating driver to probe; tests pass one configured to fail. */
  bubblewrap?: SandboxDriver;
}

/** Throws the bubblewrap probe's NixSpaceError('SANDBOX_UNAVAILABLE') unless unsafeNoSandbox. */
export async function selectSandboxDriver(options: SelectDriverOptions): Promise<SandboxDriver> {
  const driver = options.unsafeNoSandbox ? new ProcessDriver() : isolatingDriver(options);
  if (!options.unsafeNoSandbox) await driver.probe();
  const missing = (['cpu', 'memory', 'pids'] as const).filter(
    (kind) => !driver.capabilities.limits.includes(kind),
  );
  if (missing.length > 0 && !options.unsafeNoLimits && !options.unsafeNoSandbox) {
    throw new NixSpaceError(
      'SANDBOX_UNAVAILABLE',
      `this host cannot enforce workspace ${missing.join(', ')} limits (no writable cgroup controller for them): run NixSpace as root on a host with cgroups, or start it with --unsafe-no-limits`,
    );
  }
  return driver;
}

/**
 * The default driver (as selectSandboxDriver picks it, refusals included) and every other
 * isolating driver this host can run, probed once at startup; one that cannot run is left out.
 * Without isolation there is only the unsafe driver.
 */
export async function selectSandboxDrivers(options: SelectDriverOptions): Promise<SandboxDrivers> {
  const defaultDriver = await selectSandboxDriver(options);
  if (options.unsafeNoSandbox) return new SandboxDrivers(defaultDriver);
  const others: SandboxDriver[] = [];
  for (const name of isolatingDrivers) {
    if (name === defaultDriver.name) continue;
    const other = await selectSandboxDriver({ ...options, sandbox: name }).catch(() => undefined);
    if (other) others.push(other);
  }
  return new SandboxDrivers(defaultDriver, others);
}

function isolatingDriver(options: SelectDriverOptions): SandboxDriver {
  if (options.sandbox === 'microvm') {
    if (options.microvmStateDir === undefined) {
      throw new NixSpaceError('SANDBOX_UNAVAILABLE', 'the microvm driver needs a state directory');
    }
    return new MicrovmDriver({ stateRoot: options.microvmStateDir });
  }
  if (options.sandbox !== 'gvisor') return options.bubblewrap ?? new BubblewrapDriver();
  if (options.gvisorStateDir === undefined) {
    throw new NixSpaceError('SANDBOX_UNAVAILABLE', 'the gvisor driver needs a state directory');
  }
  return new GvisorDriver({ stateDir: options.gvisorStateDir });
}
