// The sandbox drivers a server has: its default (`--sandbox`) and every other isolating one this
// host can run. A workspace is made on one of them and stays on it for its whole life.
import { NixSpaceError } from '../errors.js';
import type { SandboxDriver } from './sandbox.js';

export class SandboxDrivers {
  readonly #byName = new Map<string, SandboxDriver>();

  constructor(
    /** New workspaces run here unless they ask for another. */
    readonly defaultDriver: SandboxDriver,
    others: readonly SandboxDriver[] = [],
  ) {
    for (const driver of [defaultDriver, ...others]) {
      if (!this.#byName.has(driver.name)) this.#byName.set(driver.name, driver);
    }
  }

  /** Every driver, the default first. */
  get all(): readonly SandboxDriver[] {
    return [...this.#byName.values()];
  }

  get names(): readonly string[] {
    return [...this.#byName.keys()];
  }

  /** The driver a new workspace asks for (the default when it asks for none); refuses one this server lacks. */
  choose(name: string | null | undefined): SandboxDriver {
    if (name === undefined || name === null || name === '') return this.defaultDriver;
    const driver = this.#byName.get(name);
    if (!driver) {
      throw new NixSpaceError(
        'BAD_REQUEST',
        `This server cannot run a workspace on "${name}": it has ${this.names.join(', ')}`,
      );
    }
    return driver;
  }

  /** The driver a workspace was made on, if this server has it. */
  known(workspace: { sandbox_driver: string | null }): SandboxDriver | undefined {
    return workspace.sandbox_driver === null
      ? this.defaultDriver
      : this.#byName.get(workspace.sandbox_driver);
  }

  /** The driver a workspace was made on (null: before drivers were recorded, the default). */
  of(workspace: { sandbox_driver: string | null }): SandboxDriver {
    if (workspace.sandbox_driver === null) return this.defaultDriver;
    const driver = this.#byName.get(workspace.sandbox_driver);
    if (!driver) {
      throw new NixSpaceError(
        'SANDBOX_UNAVAILABLE',
        `This workspace runs on ${workspace.sandbox_driver}, which this server does not have now (it has ${this.names.join(', ')}): start NixSpace on a host that has it`,
      );
    }
    return driver;
  }
}
