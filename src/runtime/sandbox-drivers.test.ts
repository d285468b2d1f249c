// Which driver a workspace runs on: the default unless it asks, a driver the server has when it
// does, and the one it was made on ever after — refused with what the server has otherwise.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { NixSpaceError } from '../errors.js';
import { BubblewrapDriver } from './drivers/bubblewrap/bubblewrap-driver.js';
import { GvisorDriver } from './drivers/gvisor/gvisor-driver.js';
import { SandboxDrivers } from './sandbox-drivers.js';

describe('the drivers of a server', () => {
  // Made, never started: only which is which matters here.
  const bubblewrap = new BubblewrapDriver();
  const gvisor = new GvisorDriver({ stateDir: '/nonexistent/gvisor' });
  const drivers = new SandboxDrivers(bubblewrap, [gvisor, new BubblewrapDriver()]);

  it('lists each driver once, the default first', () => {
    assert.deepEqual(drivers.names, ['bubblewrap', 'gvisor']);
    assert.equal(drivers.all[0], bubblewrap);
  });

  it('gives a new workspace the default unless it asks for a driver it has', () => {
    assert.equal(drivers.choose(undefined), bubblewrap);
    assert.equal(drivers.choose(null), bubblewrap);
    assert.equal(drivers.choose('gvisor'), gvisor);
    assert.throws(
      () => drivers.choose('microvm'),
      (error: unknown) =>
        error instanceof NixSpaceError &&
        error.code === 'BAD_REQUEST' &&
        /cannot run a workspace on "microvm": it has bubblewrap, gvisor/.test(error.message),
    );
  });

  it('keeps a workspace on the driver it was made on, and says so when that one is gone', () => {
    assert.equal(drivers.of({ sandbox_driver: 'gvisor' }), gvisor);
    assert.equal(drivers.of({ sandbox_driver: null }), bubblewrap);
    assert.equal(drivers.known({ sandbox_driver: 'microvm' }), undefined);
    assert.throws(
      () => drivers.of({ sandbox_driver: 'microvm' }),
      (error: unknown) =>
        error instanceof NixSpaceError &&
        error.code === 'SANDBOX_UNAVAILABLE' &&
        /runs on microvm, which this server does not have now/.test(error.message),
    );
  });
});
