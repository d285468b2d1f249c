import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { runInAgent } from '../../agent/agent-run.js';
import { runCommandGroupConformance } from '../../command-group-conformance.js';
import { runSandboxConformance } from '../../sandbox-conformance.js';
import { TEST_SANDBOX_USER } from '../../test-sandbox-user.js';
import { ProcessDriver } from './process-driver.js';

const noIsolation = 'no isolation by design: the unsafe process driver runs on the host';

runSandboxConformance({
  name: 'process',
  makeDriver: () => new ProcessDriver(),
  driverModule: { url: new URL('./process-driver.ts', import.meta.url).href, exportName: 'ProcessDriver' },
  skip: {
    filesystem: noIsolation,
    hiddenPaths: noIsolation,
    processes: noIsolation,
    networkNone: 'no network isolation by design: the process driver has only the host network',
  },
});

runCommandGroupConformance({ name: 'process', makeDriver: () => new ProcessDriver() });

describe('the process driver with the workspace agent', () => {
  it('runs the agent on the host, and what it starts in the workspace', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'nixspace-process-agent-'));
    const agentDir = await mkdtemp(join(tmpdir(), 'nixspace-process-agent-socket-'));
    const sandbox = await new ProcessDriver().start({
      id: `agent-${randomBytes(6).toString('hex')}`,
      user: TEST_SANDBOX_USER,
      workspaceDir: dir,
      agentDir,
      network: 'host',
      limits: {},
    });
    try {
      const run = await runInAgent(sandbox.agent, ['/bin/sh', '-c', 'pwd; echo hi > made.txt'], {
        cwd: dir,
      });
      assert.equal(run.code, 0);
      assert.equal(run.stdout.trim(), dir);
      assert.equal(await readFile(join(dir, 'made.txt'), 'utf8'), 'hi\n');
      const agentPid = sandbox.agent.client!.hello.pid;
      await sandbox.stop();
      assert.throws(() => process.kill(agentPid, 0), /ESRCH/);
    } finally {
      await sandbox.stop();
      await rm(dir, { recursive: true, force: true });
      await rm(agentDir, { recursive: true, force: true });
    }
  });
});
