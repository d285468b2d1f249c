// The bubblewrap driver runs every program of a sandbox under the workspace seccomp filter: its
// init, the workspace agent, installs the filter on itself, and everything it starts inherits it.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { giveTree } from '../../host/give-tree.js';
import type { Sandbox } from '../../sandbox.js';
import { execInSandbox } from '../../sandbox-exec.js';
import { writeSeccompFilter } from '../../seccomp/seccomp-filter.js';
import { TEST_SANDBOX_USER } from '../../test-sandbox-user.js';
import { BubblewrapDriver } from './bubblewrap-driver.js';

/** The seccomp mode of the agent, the child of bwrap's reaper (the sandbox's pid 1): 2 is a filter. */
async function agentSeccompMode(sandbox: Sandbox): Promise<number> {
  const children = (await readFile(`/proc/${sandbox.pid}/task/${sandbox.pid}/children`, 'utf8')).trim();
  const [init] = children.split(' ');
  assert.ok(init, `the sandbox's pid 1 (${sandbox.pid}) has no child`);
  const status = await readFile(`/proc/${init}/status`, 'utf8');
  return Number(/^Seccomp:\s+(\d+)$/m.exec(status)?.[1]);
}

describe('bubblewrap driver: seccomp filter', () => {
  let root = '';
  let filter = '';
  const sandboxes: Sandbox[] = [];

  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'nixspace-bwrap-seccomp-'));
    filter = await writeSeccompFilter(root);
  });

  after(async () => {
    await Promise.all(sandboxes.map((sandbox) => sandbox.stop()));
    await rm(root, { recursive: true, force: true });
  });

  async function start(driver: BubblewrapDriver): Promise<Sandbox> {
    const workspaceDir = join(root, `ws-${randomBytes(4).toString('hex')}`);
    await mkdir(workspaceDir);
    await giveTree(workspaceDir, TEST_SANDBOX_USER);
    const id = `seccomp-${randomBytes(6).toString('hex')}`;
    const sandbox = await driver.start({
      id,
      user: TEST_SANDBOX_USER,
      workspaceDir,
      agentDir: join(root, 'agents', id),
      network: 'none',
      limits: {},
    });
    sandboxes.push(sandbox);
    return sandbox;
  }

  it('runs the agent under the filter it is given', async () => {
    const sandbox = await start(new BubblewrapDriver({ seccompFile: filter }));
    assert.equal(await agentSeccompMode(sandbox), 2);
  });

  it('runs the agent and every program it starts under the workspace filter by default', async () => {
    const sandbox = await start(new BubblewrapDriver());
    assert.equal(await agentSeccompMode(sandbox), 2);
    const result = await execInSandbox(
      sandbox,
      ['sh', '-c', 'grep ^Seccomp: /proc/self/status; unshare -U true'],
      {
        timeoutMs: 20_000,
      },
    );
    assert.equal(result.timedOut, false);
    assert.match(result.stdout, /^Seccomp:\s+2$/m);
    assert.notEqual(result.code, 0, 'a new user namespace is refused');
  });

  it('fails to start, naming the file, when the filter cannot be read', async () => {
    const driver = new BubblewrapDriver({ seccompFile: join(root, 'missing.bpf') });
    await assert.rejects(start(driver), (error: Error & { code?: string; detail?: string }) => {
      assert.equal(error.code, 'SANDBOX_FAILED');
      assert.match(error.detail ?? '', /missing\.bpf/);
      return true;
    });
  });
});
