// A real sandbox from the host's isolating driver (bubblewrap), over a temporary directory.
import { randomUUID } from 'node:crypto';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { giveTree } from '../../src/runtime/host/give-tree.js';
import { RuntimeSandbox } from '../../src/runtime/runtime-sandbox.js';
import { selectSandboxDriver } from '../../src/runtime/select-driver.js';
/**
 * The unprivileged host user test sandboxes run as: apart from the uids workspaces get, so a test
 * never shares an identity with a workspace of a server running beside it.
 */
export const TEST_SANDBOX_USER = { uid: 1_500_000_000, gid: 1_500_000_000 };
export async function startTestSandbox() {
  const driver = await selectSandboxDriver({ unsafeNoSandbox: false });
  const dir = await mkdtemp(join(tmpdir(), 'nixspace-job-sandbox-'));
  await mkdir(join(dir, 'repo'));
  await giveTree(dir, TEST_SANDBOX_USER);
  const sandbox = await RuntimeSandbox.start(driver, {
    id: randomUUID(),
    user: TEST_SANDBOX_USER,
    workspaceDir: dir,
    network: 'none',
    limits: { pids: 512 },
  });
  return {
    sandbox,
    dir,
    async close() {
      await sandbox.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
//# sourceMappingURL=sandbox.js.map
