import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { git, type MadeRepo, makeRepo } from '../../test/support/git-fixtures.js';
import { type GitHttpServer, startGitHttpServer } from '../../test/support/git-http-server.js';
import { NixSpaceError } from '../errors.js';
import { GitMirrors } from './mirrors.js';
import { parseRepoUrl } from './repo-url.js';
import type { RepoUrl } from './source.js';

let server: GitHttpServer;
let repo: MadeRepo;
let scratch: string;
let mirrors: GitMirrors;
let url: RepoUrl;

before(async () => {
  server = await startGitHttpServer();
  scratch = await mkdtemp(join(tmpdir(), 'nixspace-checkout-test-'));
  repo = await makeRepo(server.root, 'owner/app.git', {
    commits: 3,
    files: { 'package.json': '{"name":"app"}\n' },
    branches: ['feature/x'],
    tags: [{ name: 'v1', at: 1, annotated: true }],
  });
  mirrors = new GitMirrors({
    mirrorsDir: join(scratch, 'mirrors'),
    timeoutMs: 10_000,
    maxRepoBytes: 64 * 1024 * 1024,
  });
  url = parseRepoUrl(server.url('owner/app.git'));
  await mirrors.fetch(url);
});

after(async () => {
  await server.close();
  await rm(scratch, { recursive: true, force: true });
});

let counter = 0;
const target = (): string => join(scratch, 'workspaces', `ws-${++counter}`);

/** Every file under dir with its size and mtime, to prove a directory was not written to. */
async function snapshot(dir: string): Promise<Map<string, string>> {
  const result = new Map<string, string>();
  const walk = async (path: string): Promise<void> => {
    for (const entry of await readdir(path, { withFileTypes: true })) {
      const full = join(path, entry.name);
      const info = await stat(full);
      result.set(relative(dir, full), `${info.size}:${info.mtimeMs}`);
      if (entry.isDirectory()) await walk(full);
    }
  };
  result.set('.', `${(await stat(dir)).mtimeMs}`);
  await walk(dir);
  return result;
}

describe('GitMirrors.checkout', () => {
  it('checks out a branch with its files, its commit and origin/<branch> as upstream', async () => {
    const dir = target();
    const resolved = await mirrors.resolveRef(url, 'feature/x');
    await mirrors.checkout(url, resolved, dir);

    assert.equal(await git(['-C', dir, 'log', '-1', '--format=%H']), repo.branches['feature/x']);
    assert.equal(await readFile(join(dir, 'feature-x.txt'), 'utf8'), 'on feature/x\n');
    assert.equal(await readFile(join(dir, 'package.json'), 'utf8'), '{"name":"app"}\n');
    assert.equal(await git(['-C', dir, 'symbolic-ref', '--short', 'HEAD']), 'feature/x');
    assert.equal(await git(['-C', dir, 'rev-parse', '--abbrev-ref', '@{upstream}']), 'origin/feature/x');
    assert.equal(await git(['-C', dir, 'remote', 'get-url', 'origin']), server.url('owner/app.git'));
    assert.equal(await git(['-C', dir, 'status', '--porcelain']), '');
    const tags = await git(['-C', dir, 'tag', '--list']);
    assert.equal(tags, 'v1');
  });

  it('checks out the default branch when no ref is given', async () => {
    const dir = target();
    await mirrors.checkout(url, await mirrors.resolveRef(url, undefined), dir);
    assert.equal(await git(['-C', dir, 'symbolic-ref', '--short', 'HEAD']), 'main');
    assert.equal(await git(['-C', dir, 'log', '-1', '--format=%H']), repo.commits[2]);
  });

  it('checks out a tag or an older commit detached, with the files of that commit', async () => {
    const byTag = target();
    await mirrors.checkout(url, await mirrors.resolveRef(url, 'v1'), byTag);
    assert.equal(await git(['-C', byTag, 'log', '-1', '--format=%H']), repo.commits[1]);
    await assert.rejects(git(['-C', byTag, 'symbolic-ref', '-q', 'HEAD']));
    await assert.rejects(stat(join(byTag, 'file-2.txt')));

    const byShortId = target();
    const resolved = await mirrors.resolveRef(url, repo.commits[0]!.slice(0, 8));
    const { commit } = await mirrors.fetch(url, { commit: resolved.commit });
    await mirrors.checkout(url, { ...resolved, commit: commit!, provisional: false }, byShortId);
    assert.equal(await git(['-C', byShortId, 'rev-parse', 'HEAD']), repo.commits[0]);
    assert.deepEqual((await readdir(byShortId)).filter((n) => n !== '.git').sort(), [
      'README.md',
      'file-0.txt',
      'package.json',
    ]);
  });

  it('borrows objects from the mirror instead of copying them', async () => {
    const dir = target();
    await mirrors.checkout(url, await mirrors.resolveRef(url, undefined), dir);
    const alternates = await readFile(join(dir, '.git', 'objects', 'info', 'alternates'), 'utf8');
    assert.equal(alternates.trim(), join(mirrors.mirrorDir(url), 'objects'));
    const packs = await readdir(join(dir, '.git', 'objects', 'pack'));
    assert.deepEqual(packs, []);
    assert.equal(await git(['-C', dir, 'count-objects']), '0 objects, 0 kilobytes');
  });

  it('commits into its own object store without writing into the mirror', async () => {
    const dir = target();
    await mirrors.checkout(url, await mirrors.resolveRef(url, 'main'), dir);
    const mirrorDir = mirrors.mirrorDir(url);
    const before = await snapshot(mirrorDir);

    await writeFile(join(dir, 'change.txt'), 'made in the workspace\n');
    await git(['-C', dir, 'add', 'change.txt']);
    await git(['-C', dir, 'commit', '--quiet', '-m', 'Workspace change']);
    const commit = await git(['-C', dir, 'rev-parse', 'HEAD']);

    assert.deepEqual(await snapshot(mirrorDir), before);
    await git(['-C', dir, 'cat-file', '-e', commit]);
    await stat(join(dir, '.git', 'objects', commit.slice(0, 2), commit.slice(2)));
    await assert.rejects(git(['--git-dir', mirrorDir, 'cat-file', '-e', commit]));
    assert.equal(await git(['-C', dir, 'rev-list', '--count', 'origin/main..HEAD']), '1');
  });

  it('removes the target directory when the checkout fails', async () => {
    const dir = target();
    const missing = { commit: 'e'.repeat(40), refName: undefined, branch: undefined };
    await assert.rejects(mirrors.checkout(url, missing, dir), (error: unknown) => {
      assert.ok(error instanceof NixSpaceError);
      assert.equal(error.code, 'REF_NOT_FOUND');
      assert.ok(error.message.includes('e'.repeat(40)));
      return true;
    });
    await assert.rejects(stat(dir), { code: 'ENOENT' });
  });

  it('refuses a target directory that already has files, leaving them alone', async () => {
    const dir = target();
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, 'keep.txt'), 'mine');
    await assert.rejects(mirrors.checkout(url, await mirrors.resolveRef(url, undefined), dir), {
      code: 'CONFLICT',
    });
    assert.equal(await readFile(join(dir, 'keep.txt'), 'utf8'), 'mine');
  });

  it('asks for a fetch when the repository has no mirror yet', async () => {
    const other = parseRepoUrl(server.url('owner/never-fetched.git'));
    const resolved = { commit: repo.commits[0]!, refName: undefined, branch: undefined };
    await assert.rejects(mirrors.checkout(other, resolved, target()), {
      code: 'GIT_FAILED',
      message: /fetch/,
    });
  });

  it('works from a local path source, with origin pointing at the path', async () => {
    const local = parseRepoUrl(repo.dir);
    await mirrors.fetch(local);
    const dir = target();
    await mirrors.checkout(local, await mirrors.resolveRef(local, 'feature/x'), dir);
    assert.equal(await git(['-C', dir, 'log', '-1', '--format=%H']), repo.branches['feature/x']);
    assert.equal(await git(['-C', dir, 'remote', 'get-url', 'origin']), repo.dir);
  });

  it('removeCheckout deletes the workspace and leaves the mirror usable', async () => {
    const dir = target();
    await mirrors.checkout(url, await mirrors.resolveRef(url, undefined), dir);
    await mirrors.removeCheckout(dir);
    await assert.rejects(stat(dir), { code: 'ENOENT' });
    await git(['--git-dir', mirrors.mirrorDir(url), 'fsck', '--no-dangling', '--connectivity-only']);
  });
});
