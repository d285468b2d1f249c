import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { chmod, mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { git as hostGit } from '../../../test/support/git-fixtures.js';
import { NixSpaceError } from '../../errors.js';
import { giveTree } from '../../runtime/host/give-tree.js';
import { RuntimeSandbox } from '../../runtime/runtime-sandbox.js';
import type { Sandbox, SandboxDriver, SandboxSpec } from '../../runtime/sandbox.js';
import { selectSandboxDriver } from '../../runtime/select-driver.js';
import { TEST_SANDBOX_USER } from '../../runtime/test-sandbox-user.js';
import { sandboxGit, withShortLivedSandbox } from './sandbox-git.js';

describe('git on a working copy, inside the workspace sandbox', () => {
  let driver: SandboxDriver;
  let root = '';
  const sandboxes: RuntimeSandbox[] = [];

  before(async () => {
    driver = await selectSandboxDriver({ unsafeNoSandbox: false });
    root = await mkdtemp(join(tmpdir(), 'nixspace-sandbox-git-'));
  });

  after(async () => {
    await Promise.all(sandboxes.map((sandbox) => sandbox.stop()));
    await rm(root, { recursive: true, force: true });
  });

  /** A workspace directory with a one-commit checkout in `repo`, and its sandbox's spec. */
  async function workspace(env: Record<string, string> = {}): Promise<{ spec: SandboxSpec; repo: string }> {
    const dir = join(root, `ws-${randomBytes(4).toString('hex')}`);
    const repo = join(dir, 'repo');
    await mkdir(repo, { recursive: true });
    await hostGit(['init', '--quiet', '--initial-branch', 'main', repo]);
    await writeFile(join(repo, 'notes.txt'), 'main\n');
    await hostGit(['-C', repo, 'add', 'notes.txt']);
    await hostGit(['-C', repo, 'commit', '--quiet', '-m', 'one']);
    const id = `git-${randomBytes(6).toString('hex')}`;
    const spec: SandboxSpec = {
      id,
      user: TEST_SANDBOX_USER,
      workspaceDir: dir,
      agentDir: join(root, 'agents', id),
      network: 'none',
      limits: {},
      hostname: 'ws-gitprobe',
      env,
    };
    return { spec, repo };
  }

  async function started(spec: SandboxSpec): Promise<Sandbox> {
    // The test set the files up as root; from here they are the workspace user's, as in a workspace.
    await giveTree(spec.workspaceDir, TEST_SANDBOX_USER);
    const sandbox = await RuntimeSandbox.start(driver, spec);
    sandboxes.push(sandbox);
    return sandbox;
  }

  /** Has the checkout's files written through a filter program that records where it ran. */
  async function recordWhereFiltersRun(repo: string, program = 'cat'): Promise<string> {
    const marker = join(repo, '.git', 'filtered-on');
    await writeFile(join(repo, '.git', 'info', 'attributes'), '* filter=probe\n');
    await hostGit(['-C', repo, 'config', 'filter.probe.smudge', `hostname > ${marker}; ${program}`]);
    return marker;
  }

  it('runs git in the sandbox (a checkout filter runs there), as NixSpace asked', async () => {
    const { spec, repo } = await workspace();
    const marker = await recordWhereFiltersRun(repo);
    await rm(join(repo, 'notes.txt'));
    const git = sandboxGit(await started(spec), repo, { timeoutMs: 15_000 });
    const checkout = await git(['checkout', '--quiet', '--', 'notes.txt']);
    assert.equal(checkout.code, 0, checkout.stderr);
    assert.equal(await readFile(join(repo, 'notes.txt'), 'utf8'), 'main\n');
    assert.equal((await readFile(marker, 'utf8')).trim(), 'ws-gitprobe');
  });

  it('takes nothing from the sandbox environment: not its PATH, GIT_DIR or GIT_CONFIG_PARAMETERS', async () => {
    const { spec, repo } = await workspace();
    const bin = join(spec.workspaceDir, 'bin');
    const shim = join(spec.workspaceDir, 'shim-ran');
    await mkdir(bin);
    await writeFile(join(bin, 'git'), `#!/bin/sh\ntouch ${shim}\necho 0000\n`);
    await chmod(join(bin, 'git'), 0o755);
    const hooks = join(spec.workspaceDir, 'hooks');
    await mkdir(hooks);
    const hookRan = join(spec.workspaceDir, 'hook-ran');
    await writeFile(join(hooks, 'post-checkout'), `#!/bin/sh\ntouch ${hookRan}\n`);
    await chmod(join(hooks, 'post-checkout'), 0o755);
    const sandbox = await started({
      ...spec,
      env: {
        PATH: `${bin}:/usr/bin:/bin`,
        GIT_DIR: '/nonexistent',
        GIT_CONFIG_PARAMETERS: `'core.hooksPath'='${hooks}'`,
      },
    });
    const git = sandboxGit(sandbox, repo, { timeoutMs: 15_000 });
    const head = await git(['rev-parse', 'HEAD']);
    assert.equal(head.code, 0, head.stderr);
    assert.equal(
      head.stdout.trim(),
      await hostGit(['-c', 'safe.directory=*', '-C', repo, 'rev-parse', 'HEAD']),
    );
    const moved = await git(['checkout', '--quiet', '-B', 'other', 'HEAD', '--']);
    assert.equal(moved.code, 0, moved.stderr);
    await assert.rejects(stat(shim), { code: 'ENOENT' }, 'a git from the sandbox PATH ran');
    await assert.rejects(stat(hookRan), { code: 'ENOENT' }, 'a hook from GIT_CONFIG_PARAMETERS ran');
  });

  it('stops git at its time limit and says so', async () => {
    const { spec, repo } = await workspace();
    await recordWhereFiltersRun(repo, 'sleep 60; cat');
    await rm(join(repo, 'notes.txt'));
    const git = sandboxGit(await started(spec), repo, { timeoutMs: 300 });
    await assert.rejects(
      git(['checkout', '--quiet', '--', 'notes.txt']),
      (error: unknown) =>
        error instanceof NixSpaceError &&
        error.code === 'GIT_FAILED' &&
        /git checkout did not finish within 0\.3 s/.test(error.message),
    );
  });

  it('runs git in a short-lived sandbox over the files, stopped afterwards', async () => {
    const { spec, repo } = await workspace();
    await giveTree(spec.workspaceDir, TEST_SANDBOX_USER);
    let used: RuntimeSandbox | undefined;
    const stashes = await withShortLivedSandbox(driver, spec, async (sandbox) => {
      used = sandbox as RuntimeSandbox;
      return sandboxGit(sandbox, repo, { timeoutMs: 15_000 })(['stash', 'list']);
    });
    assert.equal(stashes.code, 0, stashes.stderr);
    assert.equal(used?.state, 'stopped');
  });
});
