// The gVisor driver as the conformance suite builds it (`new GvisorTestDriver()`, in the suite and
// in the child process that plays a crashing server): every instance keeps its boxes' state in one
// root-only directory of this machine, so one instance can clean up after another.
import { mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GvisorDriver } from './gvisor-driver.js';

export const testStateDir = join(tmpdir(), 'nixspace-gvisor-conformance');

export class GvisorTestDriver extends GvisorDriver {
  constructor() {
    mkdirSync(testStateDir, { recursive: true, mode: 0o700 });
    super({ stateDir: testStateDir });
  }
}
