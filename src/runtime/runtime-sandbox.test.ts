import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { NixSpaceError } from '../errors.js';
import { BubblewrapDriver } from './drivers/bubblewrap/bubblewrap-driver.js';
import { giveTree } from './host/give-tree.js';
import { RuntimeSandbox } from './runtime-sandbox.js';
import type { SandboxSpec } from './sandbox.js';
import { TEST_SANDBOX_USER } from './test-sandbox-user.js';

describe('RuntimeSandbox', () => {
  const driver = new BubblewrapDriver();
  const sandboxes: RuntimeSandbox[] = [];
  let workspaceDir = '';
  let counter = 0;

  before(async () => {
    workspaceDir = await mkdtemp(join(tmpdir(), 'nixspace-runtime-sandbox-'));
    await giveTree(workspaceDir, TEST_SANDBOX_USER);
  });

  after(async () => {
    await Promise.all(sandboxes.map((sandbox) => sandbox.stop()));
    await rm(workspaceDir, { recursive: true, force: true });
  });

  function newSandbox(): RuntimeSandbox {
    const spec: SandboxSpec = {
      id: `runtime-${process.pid}-${counter++}`,
      user: TEST_SANDBOX_USER,
      workspaceDir,
      network: 'none',
      limits: {},
    };
    const sandbox = new RuntimeSandbox(driver, spec);
    sandboxes.push(sandbox);
    return sandbox;
  }

  it('starts once: a second start shares the first', async () => {
    const sandbox = newSandbox();
    assert.equal(sandbox.state, 'new');
    assert.throws(
      () => sandbox.command(['true']),
      (e) => e instanceof NixSpaceError && e.code === 'CONFLICT',
    );
    const first = sandbox.start();
    assert.equal(sandbox.start(), first);
    assert.equal(sandbox.state, 'starting');
    await first;
    assert.equal(sandbox.state, 'running');
    assert.equal(typeof sandbox.pid, 'number');
  });

  it('stops a sandbox that is still starting, and leaves no process behind', async () => {
    const sandbox = newSandbox();
    const starting = sandbox.start();
    await sandbox.stop();
    await starting;
    assert.equal(sandbox.state, 'stopped');
    assert.equal(sandbox.pid !== undefined && existsSync(`/proc/${sandbox.pid}/ns`), false);
  });

  it('reports an init that died on its own, and refuses commands into it', async () => {
    const sandbox = newSandbox();
    await sandbox.start();
    process.kill(sandbox.pid!, 'SIGKILL');
    const exit = await sandbox.exited;
    assert.ok(exit.code !== 0 || exit.signal !== null);
    assert.equal(sandbox.state, 'exited');
    assert.throws(
      () => sandbox.command(['true']),
      (e) => e instanceof NixSpaceError && e.code === 'SANDBOX_FAILED',
    );
    await sandbox.stop();
    assert.equal(sandbox.state, 'stopped');
  });

  it('refuses to start when its signal has already aborted', async () => {
    const sandbox = newSandbox();
    await assert.rejects(sandbox.start({ signal: AbortSignal.abort() }));
    assert.equal(sandbox.state, 'failed');
    await sandbox.stop();
  });

  it('rejects a command whose sandbox was stopped even when spawned from an old SpawnCommand', async () => {
    const sandbox = newSandbox();
    await sandbox.start();
    const command = sandbox.command(['echo', 'inside']);
    await sandbox.stop();
    const child = spawn(command.file, command.args, { cwd: command.cwd, env: command.env, stdio: 'pipe' });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk;
    });
    const code = await new Promise((resolve) => child.once('close', resolve));
    assert.equal(code, 125);
    assert.match(stderr, /is not running/);
  });
});
