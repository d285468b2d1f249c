import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  closedPort,
  git,
  type MadeRepo,
  makeEmptyRepo,
  makeLargeRepo,
  makeRepo,
  pushCommit,
  startSilentHost,
} from '../../test/support/git-fixtures.js';
import { type GitHttpServer, startGitHttpServer } from '../../test/support/git-http-server.js';
import { NixSpaceError } from '../errors.js';
import { GitMirrors } from './mirrors.js';
import { parseRepoUrl } from './repo-url.js';

let server: GitHttpServer;
let repo: MadeRepo;
let scratch: string;

before(async () => {
  server = await startGitHttpServer();
  scratch = await mkdtemp(join(tmpdir(), 'nixspace-mirrors-test-'));
  repo = await makeRepo(server.root, 'owner/repo.git', {
    defaultBranch: 'develop',
    commits: 3,
    branches: ['feature/x'],
    tags: [{ name: 'v1.0' }, { name: 'v0.1', at: 0, annotated: true }],
  });
  await makeEmptyRepo(server.root, 'owner/empty.git');
  await makeLargeRepo(server.root, 'owner/large.git', 3 * 1024 * 1024);
});

after(async () => {
  await server.close();
  await rm(scratch, { recursive: true, force: true });
});

let counter = 0;
function mirrors(overrides: { timeoutMs?: number; maxRepoBytes?: number } = {}): GitMirrors {
  counter += 1;
  return new GitMirrors({
    mirrorsDir: join(scratch, `mirrors-${counter}`),
    timeoutMs: overrides.timeoutMs ?? 10_000,
    maxRepoBytes: overrides.maxRepoBytes ?? 64 * 1024 * 1024,
  });
}

async function expectError(
  promise: Promise<unknown>,
  code: string,
  mentions: string[] = [],
): Promise<NixSpaceError> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof NixSpaceError, `expected a NixSpaceError, got ${String(error)}`);
    assert.equal(error.code, code, error.message);
    for (const text of mentions)
      assert.ok(error.message.includes(text), `"${error.message}" should mention "${text}"`);
    return error;
  }
  assert.fail(`expected ${code}, but the operation succeeded`);
}

describe('GitMirrors.resolveRef over smart HTTP', () => {
  const url = () => parseRepoUrl(server.url('owner/repo.git'));

  it('resolves no ref to the default branch the server names, in one HTTP request', async () => {
    const requestsBefore = server.requestCount;
    const resolved = await mirrors().resolveRef(url(), undefined);
    assert.equal(server.requestCount - requestsBefore, 1);
    assert.deepEqual(resolved, {
      commit: repo.branches.develop,
      refName: 'refs/heads/develop',
      branch: 'develop',
    });
  });

  it('resolves a branch by short and by full name', async () => {
    const expected = {
      commit: repo.branches['feature/x'],
      refName: 'refs/heads/feature/x',
      branch: 'feature/x',
    };
    assert.deepEqual(await mirrors().resolveRef(url(), 'feature/x'), expected);
    assert.deepEqual(await mirrors().resolveRef(url(), 'refs/heads/feature/x'), expected);
  });

  it('resolves a lightweight tag, detached', async () => {
    assert.deepEqual(await mirrors().resolveRef(url(), 'v1.0'), {
      commit: repo.commits[2],
      refName: 'refs/tags/v1.0',
      branch: undefined,
    });
  });

  it('peels an annotated tag to its commit', async () => {
    const resolved = await mirrors().resolveRef(url(), 'v0.1');
    assert.equal(resolved.commit, repo.commits[0]);
    assert.notEqual(resolved.commit, repo.tagObjects['v0.1']);
    assert.equal(resolved.refName, 'refs/tags/v0.1');
  });

  it('accepts a full commit id: confirmed when a ref points at it, provisional otherwise', async () => {
    assert.deepEqual(await mirrors().resolveRef(url(), repo.commits[2]), {
      commit: repo.commits[2],
      refName: undefined,
      branch: undefined,
    });
    const old = await mirrors().resolveRef(url(), repo.commits[1]!.toUpperCase());
    assert.deepEqual(old, {
      commit: repo.commits[1],
      refName: undefined,
      branch: undefined,
      provisional: true,
    });
  });

  it('returns an abbreviated commit id as provisional, and fetch expands and verifies it', async () => {
    const short = repo.commits[1]!.slice(0, 7);
    const m = mirrors();
    const resolved = await m.resolveRef(url(), short);
    assert.deepEqual(resolved, { commit: short, refName: undefined, branch: undefined, provisional: true });
    const fetched = await m.fetch(url(), { commit: resolved.commit });
    assert.equal(fetched.commit, repo.commits[1]);
  });

  it('reports REF_NOT_FOUND naming the ref and the repository', async () => {
    await expectError(mirrors().resolveRef(url(), 'feature/nope'), 'REF_NOT_FOUND', [
      "Ref 'feature/nope' was not found in owner/repo",
      'no branch, tag or commit',
    ]);
  });

  it('reports REPO_NOT_FOUND for a path the server answers 404 to', async () => {
    const missing = server.url('owner/nope.git');
    await expectError(mirrors().resolveRef(parseRepoUrl(missing), undefined), 'REPO_NOT_FOUND', [
      `Repository ${missing} was not found`,
      '404',
    ]);
  });

  it('reports EMPTY_REPOSITORY for a repository without commits', async () => {
    await expectError(
      mirrors().resolveRef(parseRepoUrl(server.url('owner/empty.git')), 'main'),
      'EMPTY_REPOSITORY',
      ['owner/empty', 'no commits'],
    );
  });

  it('gives up on a host that accepts but never answers within the timeout, and kills git', async () => {
    await using silent = await startSilentHost();
    const started = Date.now();
    const error = await expectError(
      mirrors({ timeoutMs: 1500 }).resolveRef(parseRepoUrl(silent.url('owner/repo.git')), undefined),
      'HOST_UNREACHABLE',
      ['1.5 s', `127.0.0.1:${silent.port}`],
    );
    const elapsed = Date.now() - started;
    assert.ok(elapsed >= 1400 && elapsed < 4000, `took ${elapsed} ms: ${error.message}`);
    await silent.allClosed();
  });

  it('reports a refused connection as HOST_UNREACHABLE, naming host and port', async () => {
    const port = await closedPort();
    await expectError(
      mirrors().resolveRef(parseRepoUrl(`http://127.0.0.1:${port}/owner/repo.git`), undefined),
      'HOST_UNREACHABLE',
      [`127.0.0.1:${port}`, 'refused'],
    );
  });

  it('does not leak credentials from the URL into error messages', async () => {
    const port = await closedPort();
    const error = await expectError(
      mirrors().resolveRef(parseRepoUrl(`http://user:t0ken@127.0.0.1:${port}/x.git`), undefined),
      'HOST_UNREACHABLE',
    );
    assert.ok(!`${error.message} ${error.detail ?? ''}`.includes('t0ken'));
  });

  it('stops at once when aborted', async () => {
    await using silent = await startSilentHost();
    const controller = new AbortController();
    const started = Date.now();
    const pending = mirrors().resolveRef(parseRepoUrl(silent.url('x.git')), undefined, {
      signal: controller.signal,
    });
    setTimeout(() => controller.abort(), 200);
    await assert.rejects(pending, { name: 'AbortError' });
    assert.ok(Date.now() - started < 1500);
    await silent.allClosed();
  });
});

describe('GitMirrors.fetch', () => {
  it('clones a full bare mirror that never gcs and keeps no credentials on disk', async () => {
    const m = mirrors();
    const withToken = server.url('owner/repo.git').replace('http://', 'http://user:t0ken@');
    const lines: string[] = [];
    const result = await m.fetch(parseRepoUrl(withToken), { onProgress: (line) => lines.push(line) });
    assert.equal(
      await git(['--git-dir', result.mirrorDir, 'rev-parse', 'refs/heads/develop']),
      repo.branches.develop,
    );
    assert.equal(
      await git(['--git-dir', result.mirrorDir, 'rev-parse', 'refs/tags/v0.1']),
      repo.tagObjects['v0.1'],
    );
    assert.equal(await git(['--git-dir', result.mirrorDir, 'config', 'gc.auto']), '0');
    assert.equal(
      await git(['--git-dir', result.mirrorDir, 'config', 'remote.origin.url']),
      server.url('owner/repo.git'),
    );
    // A full mirror: no promisor remote, every blob present.
    assert.equal(
      await git(['--git-dir', result.mirrorDir, 'rev-list', '--objects', '--missing=print', '--all']).then(
        (out) => out.includes('?'),
      ),
      false,
    );
    assert.ok(result.sizeBytes > 0);
    assert.ok(
      lines.some((line) => /objects/i.test(line)),
      `progress lines: ${lines.join(' | ')}`,
    );
    assert.ok(!lines.join('\n').includes('t0ken'));
  });

  it('reuses the mirror on the second fetch and picks up a commit pushed in between', async () => {
    const root = await mkdtemp(join(server.root, 'moving-'));
    const name = `${root.slice(server.root.length + 1)}/app.git`;
    const made = await makeRepo(server.root, name, { commits: 1 });
    const url = parseRepoUrl(server.url(name));
    const m = mirrors();
    const first = await m.fetch(url);
    const inode = (await stat(first.mirrorDir)).ino;

    const pushed = await pushCommit(made.dir, 'main', { 'new.txt': 'new\n' });
    const resolved = await m.resolveRef(url, 'main');
    assert.equal(resolved.commit, pushed);
    const second = await m.fetch(url, { commit: resolved.commit });
    assert.equal(second.mirrorDir, first.mirrorDir);
    assert.equal((await stat(second.mirrorDir)).ino, inode);
    assert.equal(second.commit, pushed);
    assert.equal(await git(['--git-dir', second.mirrorDir, 'rev-parse', 'refs/heads/main']), pushed);
  });

  it('skips the network when the mirror already has an advertised commit, and fetches when not', async () => {
    const root = await mkdtemp(join(server.root, 'advertised-'));
    const name = `${root.slice(server.root.length + 1)}/app.git`;
    const made = await makeRepo(server.root, name, { commits: 1 });
    const url = parseRepoUrl(server.url(name));
    const m = mirrors();
    await m.fetch(url);
    const head = (await m.resolveRef(url, 'main')).commit;

    const before = server.requestCount;
    const again = await m.fetch(url, { commit: head, advertised: true });
    assert.equal(again.commit, head);
    assert.equal(server.requestCount, before, 'no request: the commit is already in the mirror');

    const pushed = await pushCommit(made.dir, 'main', { 'later.txt': 'later\n' });
    const fetched = await m.fetch(url, { commit: pushed, advertised: true });
    assert.equal(fetched.commit, pushed);
    assert.ok(server.requestCount > before, 'a commit the mirror lacks is fetched');
  });

  it('serialises concurrent fetches of one repository', async () => {
    const m = mirrors();
    const url = parseRepoUrl(server.url('owner/repo.git'));
    const results = await Promise.all([m.fetch(url), m.fetch(url), m.fetch(url)]);
    assert.equal(new Set(results.map((r) => r.mirrorDir)).size, 1);
    const entries = await readdir(join(results[0]!.mirrorDir, '..'));
    assert.deepEqual(entries, [`${url.mirrorKey}.git`]);
  });

  it('reports REF_NOT_FOUND for a commit the repository does not have', async () => {
    const m = mirrors();
    const url = parseRepoUrl(server.url('owner/repo.git'));
    await expectError(m.fetch(url, { commit: 'f'.repeat(40) }), 'REF_NOT_FOUND', [
      'f'.repeat(40),
      'owner/repo',
    ]);
    await expectError(m.fetch(url, { commit: 'abcdef1' }), 'REF_NOT_FOUND', ['abcdef1']);
  });

  it('kills a clone that passes maxRepoBytes and leaves nothing behind', async () => {
    const m = mirrors({ maxRepoBytes: 512 * 1024 });
    const url = parseRepoUrl(server.url('owner/large.git'));
    await expectError(m.fetch(url), 'REPO_TOO_LARGE', ['owner/large', '512 KiB limit', 'reached']);
    assert.deepEqual(await readdir(join(m.mirrorDir(url), '..')), []);
  });

  it('stops a fetch that grows an existing mirror past the limit and drops the partial pack', async () => {
    const made = await makeRepo(server.root, 'owner/growing.git');
    const url = parseRepoUrl(server.url('owner/growing.git'));
    const m = mirrors({ maxRepoBytes: 512 * 1024 });
    const { mirrorDir } = await m.fetch(url);
    await pushCommit(made.dir, 'main', { 'big.bin': randomBytes(3 * 1024 * 1024) });
    await expectError(m.fetch(url), 'REPO_TOO_LARGE', ['owner/growing', '512 KiB limit']);
    const leftovers = (await readdir(join(mirrorDir, 'objects', 'pack'))).filter((name) =>
      name.startsWith('tmp_'),
    );
    assert.deepEqual(leftovers, []);
    await git(['--git-dir', mirrorDir, 'fsck', '--connectivity-only', '--no-dangling']);
  });

  it('reports REPO_NOT_FOUND and leaves nothing behind when the repository is missing', async () => {
    const m = mirrors();
    const url = parseRepoUrl(server.url('owner/missing.git'));
    await expectError(m.fetch(url), 'REPO_NOT_FOUND', [url.url]);
    assert.deepEqual(await readdir(join(m.mirrorDir(url), '..')), []);
  });

  it('times out a fetch from a host that never answers', async () => {
    await using silent = await startSilentHost();
    const m = mirrors({ timeoutMs: 1500 });
    const started = Date.now();
    await expectError(m.fetch(parseRepoUrl(silent.url('x.git'))), 'HOST_UNREACHABLE', ['1.5 s']);
    assert.ok(Date.now() - started < 4000);
    await silent.allClosed();
  });

  it('kills git when aborted and removes the half-made clone', async () => {
    await using silent = await startSilentHost();
    const m = mirrors();
    const url = parseRepoUrl(silent.url('x.git'));
    const controller = new AbortController();
    const started = Date.now();
    const pending = m.fetch(url, { signal: controller.signal });
    setTimeout(() => controller.abort(), 300);
    await assert.rejects(pending, { name: 'AbortError' });
    assert.ok(Date.now() - started < 2000);
    await silent.allClosed();
    assert.deepEqual(await readdir(join(m.mirrorDir(url), '..')), []);
  });

  it('fetches from a file:// URL and from a local path', async () => {
    for (const source of [`file://${repo.dir}`, repo.dir]) {
      const m = mirrors();
      const url = parseRepoUrl(source);
      const resolved = await m.resolveRef(url, 'feature/x');
      assert.equal(resolved.commit, repo.branches['feature/x']);
      const fetched = await m.fetch(url, { commit: resolved.commit });
      assert.equal(fetched.commit, repo.branches['feature/x']);
    }
  });

  it('reports REPO_NOT_FOUND for a local path that is not a repository', async () => {
    await expectError(
      mirrors().resolveRef(parseRepoUrl(join(scratch, 'nothing-here')), undefined),
      'REPO_NOT_FOUND',
      [join(scratch, 'nothing-here')],
    );
  });
});
