// The supervisor's side of a first install: a workspace whose machine has no code-server yet shows
// `installing` with what the install is doing, and then either runs or says why it cannot. The
// install here is the real installer on an empty directory; only the presence of libkrb5-dev is
// simulated (the test machines have it), so the install stops at its first check instead of
// downloading for minutes.

import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startTestSandbox, type TestSandbox } from '../../../test/support/sandbox.js';
import { CodeServerInstaller, hostRequirements } from './code-server-install.js';
import type { IdeStatus } from './code-server-runner.js';
import { IdeSupervisor } from './ide-supervisor.js';

describe('the IDE on a machine without code-server', () => {
  let root = '';
  let t: TestSandbox;

  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'nixspace-ide-first-'));
    t = await startTestSandbox();
  });

  after(async () => {
    await t?.close();
    await rm(root, { recursive: true, force: true });
  });

  const context = (seen: IdeStatus[]) => ({
    sandbox: t.sandbox,
    workspaceDir: t.dir,
    folder: join(t.dir, 'repo'),
    env: { PATH: '/usr/bin:/bin' },
    runtimeDir: t.dir,
    hostSocket: join(t.dir, 'host.sock'),
    onChange: (status: IdeStatus) => seen.push({ ...status }),
  });

  it('shows installing, then the reason the install cannot go on, naming the package', async () => {
    const requirements = hostRequirements.map((r) =>
      r.debianPackage === 'libkrb5-dev' ? { ...r, present: async () => false } : r,
    );
    const supervisor = new IdeSupervisor({
      installer: new CodeServerInstaller({ dir: join(root, 'on-demand'), requirements }),
    });
    const seen: IdeStatus[] = [];
    const handle = supervisor.start(context(seen));
    await handle.ready;
    assert.equal(seen[0]?.status, 'installing');
    assert.match(seen[0]?.detail ?? '', /installing code-server \(once per machine\)/);
    assert.equal(handle.status.status, 'failed');
    assert.match(handle.status.detail ?? '', /libkrb5-dev/);
    await handle.stop();
  });

  it('says how to install it when installing on demand is off, and installs nothing', async () => {
    const dir = join(root, 'off');
    const supervisor = new IdeSupervisor({
      installer: new CodeServerInstaller({ dir }),
      installOnDemand: false,
    });
    const seen: IdeStatus[] = [];
    const handle = supervisor.start(context(seen));
    await handle.ready;
    assert.ok(!seen.some((s) => s.status === 'installing'));
    assert.equal(handle.status.status, 'failed');
    assert.match(handle.status.detail ?? '', /not installed in .*; run `nixspace install-ide`/);
    await handle.stop();
  });
});
