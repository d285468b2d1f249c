// What every driver with cgroups does for command groups (`CommandOptions.group`), held to one
// suite each driver's test file runs: a group keeps whatever its command starts, setsid'd and
// double-forked processes included, and kills or lets go of exactly that.
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { giveTree } from './host/give-tree.js';
import { RuntimeSandbox } from './runtime-sandbox.js';
import type { SandboxDriver, SpawnCommand } from './sandbox.js';
import { TEST_SANDBOX_USER } from './test-sandbox-user.js';

function spawnCommand(command: SpawnCommand): ChildProcess {
  return spawn(command.file, command.args, { cwd: command.cwd, env: command.env, stdio: 'pipe' });
}

function firstLine(child: ChildProcess): Promise<string> {
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
      out += chunk;
      if (out.includes('\n')) resolve(out.slice(0, out.indexOf('\n')));
    });
    child.once('exit', (code) => reject(new Error(`exited with ${code} before printing a line`)));
  });
}

/** Host pids whose argv is exactly `argv`. */
async function hostPidsRunning(argv: readonly string[]): Promise<number[]> {
  const wanted = `${argv.join('\0')}\0`;
  const found: number[] = [];
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    if ((await readFile(`/proc/${entry}/cmdline`, 'utf8').catch(() => '')) === wanted)
      found.push(Number(entry));
  }
  return found;
}

async function until(check: () => Promise<boolean>, what: string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

function uniqueSleep(): string[] {
  return ['sleep', `1000.${randomBytes(4).readUInt32BE()}`];
}

export function runCommandGroupConformance(options: { name: string; makeDriver: () => SandboxDriver }): void {
  describe(`command groups: ${options.name}`, () => {
    const driver = options.makeDriver();
    let root = '';
    let sandbox: RuntimeSandbox;
    const children: ChildProcess[] = [];

    before(async () => {
      root = await mkdtemp(join(tmpdir(), `nixspace-groups-${options.name}-`));
      if (driver.capabilities.unprivileged) await giveTree(root, TEST_SANDBOX_USER);
      sandbox = await RuntimeSandbox.start(driver, {
        id: `groups-${randomBytes(6).toString('hex')}`,
        user: TEST_SANDBOX_USER,
        workspaceDir: root,
        network: driver.capabilities.networkPolicies[0] ?? 'host',
        limits: {},
      });
    });

    after(async () => {
      for (const child of children) child.kill('SIGKILL');
      await sandbox?.stop();
      await rm(root, { recursive: true, force: true });
    });

    /** Skips a case where the driver keeps no groups (no writable cgroup on this host). */
    const unsupported = (t: { skip(message: string): void }) => {
      if (sandbox.commandGroup('probe') !== undefined) return false;
      t.skip('this host has no writable cgroup, so the driver keeps no command groups');
      return true;
    };

    it('kills everything a command started, setsid and double forks included, and nothing else', async (t) => {
      if (unsupported(t)) return;
      const sleep = uniqueSleep();
      const other = uniqueSleep();
      const bystander = spawnCommand(sandbox.command(['sh', '-c', 'echo ready; exec "$@"', 'sh', ...other]));
      children.push(bystander);
      assert.equal(await firstLine(bystander), 'ready');
      const script = '"$@" & (setsid "$@" &); setsid -f "$@"; echo ready; wait';
      const job = spawnCommand(sandbox.command(['sh', '-c', script, 'sh', ...sleep], { group: 'job-a1' }));
      children.push(job);
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
      await group.release();
    });

    it('lets go of a group whose command left a daemon: it lives on in the sandbox', async (t) => {
      if (unsupported(t)) return;
      const sleep = uniqueSleep();
      const job = spawnCommand(
        sandbox.command(['sh', '-c', 'setsid -f "$@" </dev/null >/dev/null 2>&1', 'sh', ...sleep], {
          group: 'job-b2',
        }),
      );
      await new Promise((resolve) => job.once('exit', resolve));
      await until(async () => (await hostPidsRunning(sleep)).length === 1, 'the daemon runs');
      const group = sandbox.commandGroup('job-b2')!;
      await group.release();
      const [daemon] = await hostPidsRunning(sleep);
      assert.ok(daemon !== undefined, 'the daemon survived the release');
      assert.doesNotMatch(await readFile(`/proc/${daemon}/cgroup`, 'utf8'), /job-b2/);
      // It is still the sandbox's: stopping the sandbox ends it.
      assert.ok((await sandbox.commandGroup('job-b2')!.pids()).length === 0);
    });

    it('refuses a group name that is not letters, digits and dashes', (t) => {
      if (unsupported(t)) return;
      assert.throws(() => sandbox.command(['true'], { group: '../escape' }), /not a command group name/);
    });
  });
}
