import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startTestSandbox, TEST_SANDBOX_USER } from '../../../../test/support/sandbox.js';
import { CgroupHost } from '../../../runtime/cgroups/cgroup-host.js';
import { ProcessDriver } from '../../../runtime/drivers/process/process-driver.js';
import { RuntimeSandbox } from '../../../runtime/runtime-sandbox.js';
import { runStrategySuite } from './execution-strategy.case.js';
import { LocalStreamStrategy } from './local-stream-strategy.js';

runStrategySuite({
  name: 'pipe (LocalStream) in a bubblewrap sandbox',
  async setup() {
    const t = await startTestSandbox();
    const shell = { sandbox: t.sandbox, cwd: join(t.dir, 'repo'), env: { PATH: '/usr/bin:/bin' } };
    return { strategy: new LocalStreamStrategy(() => shell), close: t.close };
  },
});

describe('pipe jobs where the sandbox keeps no cgroups', () => {
  let dir: string;
  let agentDir: string;
  let sandbox: RuntimeSandbox;
  const escaped: number[] = [];

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'nixspace-job-nocgroup-'));
    agentDir = await mkdtemp(join(tmpdir(), 'nixspace-job-nocgroup-agent-'));
    sandbox = await RuntimeSandbox.start(new ProcessDriver({ cgroups: new CgroupHost([]) }), {
      id: randomUUID(),
      user: TEST_SANDBOX_USER,
      workspaceDir: dir,
      agentDir,
      network: 'host',
      limits: {},
    });
  });

  after(async () => {
    for (const pid of escaped) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // gone
      }
    }
    await sandbox?.stop();
    await rm(dir, { recursive: true, force: true });
    await rm(agentDir, { recursive: true, force: true });
  });

  // Only a cgroup finds a process that left the job's session and parent; without one, the cancel
  // still answers instead of waiting for that process to close the output it holds.
  it('answers a cancel within the grace period plus a second though an escaped child holds the pipe', async () => {
    const seconds = String(3000 + Math.floor(Math.random() * 5000));
    const strategy = new LocalStreamStrategy(() => ({ sandbox, cwd: dir, env: { PATH: '/usr/bin:/bin' } }));
    let output = '';
    const run = await strategy.start(
      { command: `( setsid sleep ${seconds} & ); echo started; sleep ${seconds}` },
      (_stream, data) => {
        output += data.toString('utf8');
      },
    );
    for (let i = 0; i < 200 && !output.includes('started'); i++) await new Promise((r) => setTimeout(r, 50));
    const graceMs = 1000;
    const startedAt = Date.now();
    const outcome = await Promise.race([
      Promise.all([run.cancel(graceMs), run.done]).then(() => 'ended'),
      new Promise((resolve) => setTimeout(resolve, 15_000, 'hung')),
    ]);
    const elapsed = Date.now() - startedAt;
    for (const entry of await readdir('/proc')) {
      const cmdline = await readFile(`/proc/${entry}/cmdline`, 'utf8').catch(() => '');
      if (cmdline === `sleep\0${seconds}\0`) escaped.push(Number(entry));
    }
    assert.equal(outcome, 'ended', `cancel still waiting after ${elapsed} ms`);
    // grace + 1 s is the promise; a busy test machine gets two more seconds.
    assert.ok(elapsed <= graceMs + 1000 + 2000, `cancel took ${elapsed} ms with a ${graceMs} ms grace`);
  });
});
