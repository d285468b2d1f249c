import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { NixSpaceError } from '../errors.js';
import { firstLine, TestPrograms, waitFor } from './agent/agent-test-programs.js';
import { BubblewrapDriver } from './drivers/bubblewrap/bubblewrap-driver.js';
import { giveTree } from './host/give-tree.js';
import { hostPidsRunning, uniqueSleep } from './host/host-test-probes.js';
import { RuntimeSandbox } from './runtime-sandbox.js';
import type { SandboxSpec } from './sandbox.js';
import { execInSandbox } from './sandbox-exec.js';
import { TEST_SANDBOX_USER } from './test-sandbox-user.js';

describe('RuntimeSandbox', () => {
  const driver = new BubblewrapDriver();
  const sandboxes: RuntimeSandbox[] = [];
  const programs = new TestPrograms();
  let root = '';
  let workspaceDir = '';
  let counter = 0;

  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'nixspace-runtime-sandbox-'));
    workspaceDir = join(root, 'workspace');
    await mkdir(workspaceDir);
    await giveTree(workspaceDir, TEST_SANDBOX_USER);
  });

  after(async () => {
    await programs.forgetAll();
    await Promise.all(sandboxes.map((sandbox) => sandbox.stop()));
    await rm(root, { recursive: true, force: true });
  });

  function newSandbox(): RuntimeSandbox {
    const id = `runtime-${process.pid}-${counter++}`;
    const spec: SandboxSpec = {
      id,
      user: TEST_SANDBOX_USER,
      workspaceDir,
      agentDir: join(root, 'agents', id),
      network: 'none',
      limits: {},
    };
    const sandbox = new RuntimeSandbox(driver, spec);
    sandboxes.push(sandbox);
    return sandbox;
  }

  const refused = (code: string) => (error: unknown) => error instanceof NixSpaceError && error.code === code;

  it('starts once: a second start shares the first, and there is no agent before', async () => {
    const sandbox = newSandbox();
    assert.equal(sandbox.state, 'new');
    assert.throws(() => sandbox.agent, refused('CONFLICT'));
    const first = sandbox.start();
    assert.equal(sandbox.start(), first);
    assert.equal(sandbox.state, 'starting');
    assert.throws(() => sandbox.agent, refused('CONFLICT'));
    await first;
    assert.equal(sandbox.state, 'running');
    assert.equal(typeof sandbox.pid, 'number');
    const run = await execInSandbox(sandbox, ['echo', 'inside']);
    assert.deepEqual([run.code, run.stdout], [0, 'inside\n']);
  });

  it('stops a sandbox that is still starting, and leaves no process behind', async () => {
    const sandbox = newSandbox();
    const starting = sandbox.start();
    await sandbox.stop();
    await starting;
    assert.equal(sandbox.state, 'stopped');
    assert.equal(sandbox.pid !== undefined && existsSync(`/proc/${sandbox.pid}/ns`), false);
    await assert.rejects(execInSandbox(sandbox, ['true']), refused('SANDBOX_FAILED'));
  });

  it('reports an init that died on its own: its agent is gone with it, and stop still cleans up', async () => {
    const sandbox = newSandbox();
    await sandbox.start();
    const link = sandbox.agent;
    process.kill(sandbox.pid!, 'SIGKILL');
    const exit = await sandbox.exited;
    assert.ok(exit.code !== 0 || exit.signal !== null);
    assert.equal(sandbox.state, 'exited');
    await waitFor(async () => (link.client?.closed ? true : undefined), 'the agent connection to drop');
    await sandbox.stop();
    assert.equal(sandbox.state, 'stopped');
    await assert.rejects(execInSandbox(sandbox, ['true']), refused('SANDBOX_FAILED'));
  });

  it('refuses to start when its signal has already aborted', async () => {
    const sandbox = newSandbox();
    await assert.rejects(sandbox.start({ signal: AbortSignal.abort() }));
    assert.equal(sandbox.state, 'failed');
    assert.throws(() => sandbox.agent, refused('CONFLICT'));
    await sandbox.stop();
  });

  it("ends a program of the agent's with the sandbox; the program then reads as lost", async () => {
    const sandbox = newSandbox();
    await sandbox.start();
    const sleep = uniqueSleep();
    const program = await programs.spawn(sandbox, ['sh', '-c', 'echo ready; exec "$@"', 'sh', ...sleep]);
    assert.equal(await firstLine(program), 'ready');
    assert.equal((await hostPidsRunning(sleep)).length, 1);
    await sandbox.stop();
    assert.deepEqual(await hostPidsRunning(sleep), []);
    assert.deepEqual(await program.exited, { code: null, signal: null });
    assert.equal(program.lost, true);
    // Nothing reaches the stopped sandbox through the old link.
    await assert.rejects(program.signal('SIGTERM'), refused('SANDBOX_FAILED'));
  });
});
