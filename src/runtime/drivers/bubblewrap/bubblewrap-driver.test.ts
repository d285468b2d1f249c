import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after } from 'node:test';
import { runCommandGroupConformance } from '../../command-group-conformance.js';
import { collectRun } from '../../host/collect-run.js';
import { giveTree } from '../../host/give-tree.js';
import type { Sandbox } from '../../sandbox.js';
import { runSandboxConformance } from '../../sandbox-conformance.js';
import { runSeccompConformance } from '../../seccomp/seccomp-conformance.js';
import { TEST_SANDBOX_USER } from '../../test-sandbox-user.js';
import { BubblewrapDriver } from './bubblewrap-driver.js';

runSandboxConformance({
  name: 'bubblewrap',
  makeDriver: () => new BubblewrapDriver(),
  driverModule: {
    url: new URL('./bubblewrap-driver.ts', import.meta.url).href,
    exportName: 'BubblewrapDriver',
  },
});

// Every refused call, refused to a program of a workspace sandbox (a command joining it, as
// terminals and jobs are).
let sandbox: Promise<{ sandbox: Sandbox; dir: string }> | undefined;
const seccompSandbox = () => {
  sandbox ??= (async () => {
    const dir = await mkdtemp(join(tmpdir(), 'nixspace-bwrap-seccomp-'));
    await giveTree(dir, TEST_SANDBOX_USER);
    const id = `seccomp-${randomBytes(6).toString('hex')}`;
    const started = await new BubblewrapDriver().start({
      id,
      user: TEST_SANDBOX_USER,
      workspaceDir: dir,
      network: 'none',
      limits: {},
    });
    return { sandbox: started, dir };
  })();
  return sandbox;
};
after(async () => {
  const started = await sandbox;
  await started?.sandbox.stop();
  if (started) await rm(started.dir, { recursive: true, force: true });
});

runSeccompConformance({
  name: 'a bubblewrap workspace sandbox',
  run: async (argv) => {
    const command = (await seccompSandbox()).sandbox.command(argv);
    return collectRun(command.file, command.args, { env: command.env });
  },
});
runCommandGroupConformance({ name: 'bubblewrap', makeDriver: () => new BubblewrapDriver() });
