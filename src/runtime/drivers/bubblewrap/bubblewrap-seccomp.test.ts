// The bubblewrap driver installs the workspace seccomp filter on the sandbox's init when given one:
// the init (and so whatever it starts) runs in seccomp filter mode, and only then.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Sandbox } from '../../sandbox.js';
import { writeSeccompFilter } from '../../seccomp/seccomp-filter.js';
import { BubblewrapDriver } from './bubblewrap-driver.js';

/** The seccomp mode of the program bwrap's reaper (the sandbox's pid 1) runs: 2 is a filter. */
async function initSeccompMode(sandbox: Sandbox): Promise<number> {
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
    const id = `seccomp-${randomBytes(6).toString('hex')}`;
    const sandbox = await driver.start({ id, workspaceDir, network: 'none', limits: {} });
    sandboxes.push(sandbox);
    return sandbox;
  }

  it('runs the init under the filter it is given', async () => {
    const sandbox = await start(new BubblewrapDriver({ seccompFile: filter }));
    assert.equal(await initSeccompMode(sandbox), 2);
  });

  it('runs the init without a filter when given none', async () => {
    const sandbox = await start(new BubblewrapDriver());
    assert.equal(await initSeccompMode(sandbox), 0);
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
