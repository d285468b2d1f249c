// A real sandbox from the host's isolating driver (bubblewrap), over a temporary directory.

import { randomUUID } from 'node:crypto';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { giveTree } from '../../src/runtime/host/give-tree.js';
import { RuntimeSandbox } from '../../src/runtime/runtime-sandbox.js';
import { selectSandboxDriver } from '../../src/runtime/select-driver.js';

import { TEST_SANDBOX_USER } from '../../src/runtime/test-sandbox-user.js';

export { TEST_SANDBOX_USER };

export interface TestSandbox {
  sandbox: RuntimeSandbox;
  dir: string;
  close(): Promise<void>;
}

export async function startTestSandbox(): Promise<TestSandbox> {
  const driver = await selectSandboxDriver({ unsafeNoSandbox: false });
  const dir = await mkdtemp(join(tmpdir(), 'nixspace-job-sandbox-'));
  const agentDir = await mkdtemp(join(tmpdir(), 'nixspace-job-sandbox-agent-'));
  await mkdir(join(dir, 'repo'));
  await giveTree(dir, TEST_SANDBOX_USER);
  const sandbox = await RuntimeSandbox.start(driver, {
    id: randomUUID(),
    user: TEST_SANDBOX_USER,
    workspaceDir: dir,
    agentDir,
    network: 'none',
    limits: { pids: 512 },
  });
  return {
    sandbox,
    dir,
    async close() {
      await sandbox.stop();
      await rm(dir, { recursive: true, force: true });
      await rm(agentDir, { recursive: true, force: true });
    },
  };
}
