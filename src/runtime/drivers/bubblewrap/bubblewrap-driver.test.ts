import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { AgentProcess } from '../../agent/agent-process.js';
import { runInAgent } from '../../agent/agent-run.js';
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

runCommandGroupConformance({ name: 'bubblewrap', makeDriver: () => new BubblewrapDriver() });

// The workspace agent as the sandbox's first process: what it starts is the workspace user,
// unprivileged and under the seccomp filter, inside the sandbox's walls.
let agentSandbox: Promise<{ sandbox: Sandbox; dir: string; agentDir: string; hidden: string }> | undefined;
const withAgent = () => {
  agentSandbox ??= (async () => {
    const dir = await mkdtemp(join(tmpdir(), 'nixspace-bwrap-agent-'));
    const agentDir = await mkdtemp(join(tmpdir(), 'nixspace-bwrap-agent-socket-'));
    const hidden = await mkdtemp(join(tmpdir(), 'nixspace-bwrap-agent-hidden-'));
    await writeFile(join(hidden, 'secret'), 'host secret');
    await giveTree(dir, TEST_SANDBOX_USER);
    const started = await new BubblewrapDriver().start({
      id: `agent-${randomBytes(6).toString('hex')}`,
      user: TEST_SANDBOX_USER,
      workspaceDir: dir,
      hiddenPaths: [hidden],
      agentDir,
      network: 'none',
      limits: {},
    });
    return { sandbox: started, dir, agentDir, hidden };
  })();
  return agentSandbox;
};
after(async () => {
  const started = await agentSandbox;
  await started?.sandbox.stop();
  if (started) {
    for (const path of [started.dir, started.agentDir, started.hidden])
      await rm(path, { recursive: true, force: true });
  }
});

describe('bubblewrap with the workspace agent as its first process', () => {
  const run = async (script: string) => {
    const { sandbox, dir } = await withAgent();
    return runInAgent(sandbox.agent, ['/bin/sh', '-c', script], {
      cwd: dir,
      env: { PATH: '/usr/bin:/bin' },
    });
  };

  it('is the sandbox init, and what it starts is the workspace user with no privilege', async () => {
    const { sandbox } = await withAgent();
    assert.equal(sandbox.agent.client?.hello.pid, 2, 'pid 2, under bwrap reaping as pid 1');
    const { code, stdout } = await run(
      'id -u; id -g; grep -E "^(NoNewPrivs|Seccomp|CapEff|CapBnd):" /proc/self/status',
    );
    assert.equal(code, 0);
    const lines = stdout.trim().split('\n');
    assert.deepEqual(lines.slice(0, 2), ['1000', '1000']);
    assert.match(stdout, /NoNewPrivs:\s+1/);
    assert.match(stdout, /Seccomp:\s+2/);
    assert.match(stdout, /CapEff:\s+0+\n/);
  });

  it('writes the workspace as the sandbox user on the host, and nothing of the server', async () => {
    const { dir, agentDir, hidden } = await withAgent();
    const { code, stdout } = await run(
      `echo made > made.txt; ls -A ${agentDir} ${hidden} 2>&1; ls /run/nixspace-agent; touch /run/nixspace-agent/x 2>&1; cat ${hidden}/secret 2>&1; true`,
    );
    assert.equal(code, 0);
    const made = await stat(join(dir, 'made.txt'));
    assert.equal(made.uid, TEST_SANDBOX_USER.uid);
    assert.doesNotMatch(stdout, /host secret/);
    assert.match(stdout, /agent\.sock/);
    assert.match(stdout, /Read-only file system|Permission denied/);
  });

  it("keeps a group's program and all it starts in a cgroup of its own, seen from the host", async () => {
    const { sandbox, dir } = await withAgent();
    const group = sandbox.commandGroup('job-agent-test');
    if (group === undefined) return; // no cgroups on this host: only the process group is signalled
    const p = await AgentProcess.spawn(sandbox.agent, {
      id: 'grouped',
      argv: ['/bin/sh', '-c', 'setsid sleep 1000 & sleep 1000'],
      cwd: dir,
      env: { PATH: '/usr/bin:/bin' },
      output: { mode: 'ring', bytes: 4096 },
      group: 'job-agent-test',
    });
    const deadline = Date.now() + 20_000;
    while ((await group.pids()).length < 3) {
      assert.ok(Date.now() < deadline, 'the program and both sleeps join the group');
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    // The setsid'd sleep left the process group; the agent's signal still reaches it.
    await p.signal('SIGKILL');
    while ((await group.pids()).length > 0) {
      assert.ok(Date.now() < deadline, 'every member is killed');
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    await p.forget();
    await group.release();
  });

  it('ends with the sandbox, and the link with it', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'nixspace-bwrap-agent-stop-'));
    const agentDir = await mkdtemp(join(tmpdir(), 'nixspace-bwrap-agent-socket-'));
    await giveTree(dir, TEST_SANDBOX_USER);
    const sandbox = await new BubblewrapDriver().start({
      id: `agent-${randomBytes(6).toString('hex')}`,
      user: TEST_SANDBOX_USER,
      workspaceDir: dir,
      agentDir,
      network: 'none',
      limits: {},
    });
    try {
      const link = sandbox.agent;
      const agentPid = sandbox.pid!;
      await sandbox.stop();
      assert.equal(
        existsSync(`/proc/${agentPid}/cmdline`) &&
          readFileSync(`/proc/${agentPid}/cmdline`, 'utf8').includes('agent'),
        false,
      );
      await assert.rejects(link.connected({ timeoutMs: 100 }), /closed/);
    } finally {
      await rm(dir, { recursive: true, force: true });
      await rm(agentDir, { recursive: true, force: true });
    }
  });
});

runSeccompConformance({
  name: 'a program the workspace agent starts',
  run: async (argv) => runInAgent((await withAgent()).sandbox.agent, argv),
});

describe('an agent sandbox whose server went away', () => {
  it('keeps running after the process that started it exits, and a new one takes it back', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'nixspace-bwrap-outlive-'));
    const agentDir = await mkdtemp(join(tmpdir(), 'nixspace-bwrap-outlive-socket-'));
    await giveTree(dir, TEST_SANDBOX_USER);
    const spec = {
      id: `outlive-${randomBytes(6).toString('hex')}`,
      user: TEST_SANDBOX_USER,
      workspaceDir: dir,
      agentDir,
      network: 'none' as const,
      limits: {},
    };
    const driver = new BubblewrapDriver();
    try {
      // A server process starts the sandbox and a program in it, then exits for good.
      const starter = `
        const { BubblewrapDriver } = await import(${JSON.stringify(new URL('./bubblewrap-driver.ts', import.meta.url).href)});
        const { AgentProcess } = await import(${JSON.stringify(new URL('../../agent/agent-process.ts', import.meta.url).href)});
        const sandbox = await new BubblewrapDriver().start(${JSON.stringify(spec)});
        await AgentProcess.spawn(sandbox.agent, { id: 'counter', argv: ['/bin/sh', '-c', 'i=0; while true; do i=$((i+1)); echo $i > count; sleep 0.05; done'], cwd: ${JSON.stringify(dir)}, env: { PATH: '/usr/bin:/bin' }, output: { mode: 'ring', bytes: 4096 } });
        process.exit(0);
      `;
      const started = await collectRun(
        process.execPath,
        ['--import', 'tsx', '--input-type=module', '-e', starter],
        {
          timeoutMs: 60_000,
        },
      );
      assert.equal(started.code, 0, started.stderr);
      const sandbox = await driver.attach(spec);
      assert.ok(sandbox, 'the sandbox runs on and its agent dials the new link');
      try {
        const [counter] = (await sandbox.agent.client!.list()).filter((p) => p.id === 'counter');
        assert.ok(counter && counter.exit === undefined, 'the program runs on');
        const count = async () => Number(await readFile(join(dir, 'count'), 'utf8'));
        const before = await count();
        await new Promise((resolve) => setTimeout(resolve, 300));
        assert.ok((await count()) > before, 'and keeps counting');
      } finally {
        await sandbox.stop();
      }
      assert.equal(await driver.attach(spec), undefined, 'a stopped sandbox is not taken back');
    } finally {
      await driver.cleanup(spec.id, { agentDir });
      await rm(dir, { recursive: true, force: true });
      await rm(agentDir, { recursive: true, force: true });
    }
  });
});
