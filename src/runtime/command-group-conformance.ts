// What every driver with cgroups does for command groups (`group` on a program the agent starts),
// held to one suite each driver's test file runs: a group keeps whatever its program starts,
// setsid'd and double-forked processes included, and kills or lets go of exactly that.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { NixSpaceError } from '../errors.js';
import { AgentProcess } from './agent/agent-process.js';
import { firstLine, runToEnd, TestPrograms, waitFor } from './agent/agent-test-programs.js';
import { giveTree } from './host/give-tree.js';
import { cgroupDirsOf, hostPidsRunning, uniqueSleep } from './host/host-test-probes.js';
import { RuntimeSandbox } from './runtime-sandbox.js';
import type { SandboxDriver } from './sandbox.js';
import { TEST_SANDBOX_USER } from './test-sandbox-user.js';

const until = (check: () => Promise<boolean>, what: string) =>
  waitFor(async () => ((await check()) ? true : undefined), what);

export function runCommandGroupConformance(options: { name: string; makeDriver: () => SandboxDriver }): void {
  describe(`command groups: ${options.name}`, () => {
    const driver = options.makeDriver();
    const programs = new TestPrograms();
    let root = '';
    let sandbox: RuntimeSandbox;

    before(async () => {
      root = await mkdtemp(join(tmpdir(), `nixspace-groups-${options.name}-`));
      const workspaceDir = join(root, 'workspace');
      await mkdir(workspaceDir);
      if (driver.capabilities.unprivileged) await giveTree(workspaceDir, TEST_SANDBOX_USER);
      const id = `groups-${randomBytes(6).toString('hex')}`;
      sandbox = await RuntimeSandbox.start(driver, {
        id,
        user: TEST_SANDBOX_USER,
        workspaceDir,
        agentDir: join(root, 'agents', id),
        network: driver.capabilities.networkPolicies[0] ?? 'host',
        limits: {},
      });
    });

    after(async () => {
      await programs.forgetAll();
      await sandbox?.stop();
      await rm(root, { recursive: true, force: true });
    });

    /** Skips a case where the driver keeps no groups (no writable cgroup on this host). */
    const unsupported = (t: { skip(message: string): void }) => {
      if (sandbox.commandGroup('probe') !== undefined) return false;
      t.skip('this host has no writable cgroup, so the driver keeps no command groups');
      return true;
    };

    it('kills everything a program started, setsid and double forks included, and nothing else', async (t) => {
      if (unsupported(t)) return;
      const sleep = uniqueSleep();
      const other = uniqueSleep();
      const bystander = await programs.spawn(sandbox, ['sh', '-c', 'echo ready; exec "$@"', 'sh', ...other]);
      assert.equal(await firstLine(bystander), 'ready');
      const script = '"$@" & (setsid "$@" &); setsid -f "$@"; echo ready; wait';
      const job = await programs.spawn(sandbox, ['sh', '-c', script, 'sh', ...sleep], { group: 'job-a1' });
      assert.equal(await firstLine(job), 'ready');
      await until(async () => (await hostPidsRunning(sleep)).length === 3, 'three sleeps run');
      const group = sandbox.commandGroup('job-a1');
      assert.ok(group, 'the driver keeps command groups');
      const members = await group.pids();
      for (const pid of await hostPidsRunning(sleep))
        assert.ok(members.includes(pid), `${pid} is in the group`);
      for (const pid of await hostPidsRunning(other))
        assert.ok(!members.includes(pid), 'the bystander is not');

      await group.kill();
      assert.deepEqual(await hostPidsRunning(sleep), []);
      assert.deepEqual(await group.pids(), []);
      assert.equal((await hostPidsRunning(other)).length, 1, 'the bystander still runs');
      assert.deepEqual(await job.exited, { code: null, signal: 'SIGKILL' }, "the group's program is killed");
      await group.release();
    });

    it('lets go of a group whose program left a daemon: it lives on in the sandbox', async (t) => {
      if (unsupported(t)) return;
      const sleep = uniqueSleep();
      const job = await runToEnd(
        sandbox,
        ['sh', '-c', 'setsid -f "$@" </dev/null >/dev/null 2>&1', 'sh', ...sleep],
        { group: 'job-b2' },
      );
      assert.equal(job.code, 0, job.stderr);
      await until(async () => (await hostPidsRunning(sleep)).length === 1, 'the daemon runs');
      const [daemon] = await hostPidsRunning(sleep);
      const group = sandbox.commandGroup('job-b2')!;
      assert.deepEqual(await group.pids(), [daemon], 'the daemon is all that is left in the group');
      await group.release();
      assert.deepEqual(await hostPidsRunning(sleep), [daemon], 'the daemon survived the release');
      assert.doesNotMatch(await readFile(`/proc/${daemon}/cgroup`, 'utf8'), /job-b2/);
      // It is still the sandbox's, but in no group any more.
      assert.deepEqual(await sandbox.commandGroup('job-b2')!.pids(), []);
    });

    it('refuses a group name that is not letters, digits and dashes', async () => {
      const id = `escape-${randomBytes(4).toString('hex')}`;
      await assert.rejects(
        AgentProcess.spawn(sandbox.agent, {
          id,
          argv: ['true'],
          cwd: sandbox.workspaceDir,
          env: sandbox.env(),
          output: { mode: 'ring', bytes: 4096 },
          group: '../escape',
        }),
        (error) =>
          error instanceof NixSpaceError && error.code === 'BAD_REQUEST' && /group/.test(error.message),
      );
      // Nothing was started, and no cgroup was made beside the sandbox's.
      const listed = await (await sandbox.agent.connected()).list();
      assert.equal(
        listed.some((p) => p.id === id),
        false,
      );
      for (const dir of await cgroupDirsOf(sandbox.id)) {
        assert.equal(existsSync(join(dirname(dir), 'escape')), false, `${dirname(dir)}/escape exists`);
      }
    });
  });
}
