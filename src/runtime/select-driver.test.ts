import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { NixSpaceError } from '../errors.js';
import { CgroupHost } from './cgroups/cgroup-host.js';
import { BubblewrapDriver } from './drivers/bubblewrap/bubblewrap-driver.js';
import { findExecutable } from './host/find-executable.js';
import { selectSandboxDriver } from './select-driver.js';

describe('selectSandboxDriver', () => {
  it('picks an isolating driver when bubblewrap works', async () => {
    const driver = await selectSandboxDriver({ unsafeNoSandbox: false });
    assert.equal(driver.capabilities.isolation, true);
    assert.deepEqual(driver.capabilities.networkPolicies, ['none', 'host']);
  });

  it('refuses to run without bubblewrap, naming the package and the unsafe flag', async () => {
    const missing = new BubblewrapDriver({ bwrapPath: null });
    await assert.rejects(
      selectSandboxDriver({ unsafeNoSandbox: false, bubblewrap: missing }),
      (error) =>
        error instanceof NixSpaceError &&
        error.code === 'SANDBOX_UNAVAILABLE' &&
        error.message.includes("Debian package 'bubblewrap'") &&
        error.message.includes('--unsafe-no-sandbox'),
    );
  });

  it('reports why bubblewrap cannot start a sandbox', async () => {
    const broken = new BubblewrapDriver({ bwrapPath: '/bin/false' });
    await assert.rejects(
      selectSandboxDriver({ unsafeNoSandbox: false, bubblewrap: broken }),
      (error) => error instanceof NixSpaceError && error.code === 'SANDBOX_UNAVAILABLE',
    );
  });

  it('picks gVisor with --sandbox gvisor, keeping its boxes in the given state directory', {
    skip:
      findExecutable('runsc') === undefined
        ? 'runsc (gVisor) is not installed: apt-get install runsc'
        : false,
  }, async () => {
    const stateDir = await mkdtemp(join(tmpdir(), 'nixspace-select-gvisor-'));
    try {
      const driver = await selectSandboxDriver({
        unsafeNoSandbox: false,
        sandbox: 'gvisor',
        gvisorStateDir: stateDir,
      });
      assert.equal(driver.name, 'gvisor');
      assert.equal(driver.capabilities.isolation, true);
      assert.equal(driver.capabilities.unprivileged, true);
    } finally {
      await rm(stateDir, { recursive: true, force: true });
    }
  });

  it('picks microVMs with --sandbox microvm, keeping its boxes in the given state directory', {
    skip: process.getuid?.() !== 0 ? 'microVM boxes need root' : false,
  }, async (t) => {
    const stateRoot = await mkdtemp(join(tmpdir(), 'nixspace-select-microvm-'));
    try {
      const driver = await selectSandboxDriver({
        unsafeNoSandbox: false,
        sandbox: 'microvm',
        microvmStateDir: stateRoot,
      }).catch((error: unknown) => {
        if (error instanceof NixSpaceError && error.code === 'SANDBOX_UNAVAILABLE') {
          t.skip(`QEMU or a Debian kernel is missing here: ${error.message}`);
          return undefined;
        }
        throw error;
      });
      if (driver === undefined) return;
      assert.equal(driver.name, 'microvm');
      assert.equal(driver.capabilities.isolation, true);
      assert.equal(driver.capabilities.unprivileged, true);
      assert.deepEqual(driver.capabilities.networkPolicies, ['none', 'host']);
    } finally {
      await rm(stateRoot, { recursive: true, force: true });
    }
    await assert.rejects(
      selectSandboxDriver({ unsafeNoSandbox: false, sandbox: 'microvm' }),
      (error) =>
        error instanceof NixSpaceError && /microvm driver needs a state directory/.test(error.message),
    );
  });

  it('falls back to the non-isolating driver only when told to', async () => {
    const missing = new BubblewrapDriver({ bwrapPath: null });
    const driver = await selectSandboxDriver({ unsafeNoSandbox: true, bubblewrap: missing });
    assert.equal(driver.capabilities.isolation, false);
  });

  it('refuses a host whose cgroups cannot enforce the limits, unless told --unsafe-no-limits', async () => {
    const unlimited = () => new BubblewrapDriver({ cgroups: new CgroupHost([]) });
    await assert.rejects(
      selectSandboxDriver({ unsafeNoSandbox: false, bubblewrap: unlimited() }),
      (error) =>
        error instanceof NixSpaceError &&
        error.code === 'SANDBOX_UNAVAILABLE' &&
        /cpu, memory, pids limits/.test(error.message) &&
        error.message.includes('--unsafe-no-limits'),
    );
    const driver = await selectSandboxDriver({
      unsafeNoSandbox: false,
      unsafeNoLimits: true,
      bubblewrap: unlimited(),
    });
    assert.equal(driver.capabilities.isolation, true);
  });
});
