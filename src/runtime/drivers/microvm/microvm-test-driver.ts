// The microVM driver as the conformance suite builds it (`new MicrovmTestDriver()`, in the suite
// and in the child process that plays a crashing server): every instance keeps its boxes' state in
// one root-only directory of this machine, so one instance can clean up after another.
import { mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MicrovmDriver } from './microvm-driver.js';

export const testStateRoot = join(tmpdir(), 'nixspace-microvm-conformance');

export class MicrovmTestDriver extends MicrovmDriver {
  constructor() {
    mkdirSync(testStateRoot, { recursive: true, mode: 0o700 });
    super({ stateRoot: testStateRoot });
  }
}
