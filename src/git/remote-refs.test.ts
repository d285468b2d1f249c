import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseLsRemote, pickRef } from './remote-refs.js';
import { parseRepoUrl } from './repo-url.js';

const repo = parseRepoUrl('https://git.example.com/owner/repo.git');
const a = 'a'.repeat(40);
const b = 'b'.repeat(40);

describe('pickRef', () => {
  it('falls back to main, then master, when HEAD points at a branch that does not exist', () => {
    const unborn = parseLsRemote(
      `ref: refs/heads/gone\tHEAD\n${a}\trefs/heads/master\n${b}\trefs/heads/main\n`,
    );
    assert.deepEqual(pickRef(unborn, undefined, repo), {
      commit: b,
      refName: 'refs/heads/main',
      branch: 'main',
    });
    const onlyMaster = parseLsRemote(`${a}\trefs/heads/master\n${b}\trefs/heads/zeta\n`);
    assert.equal(pickRef(onlyMaster, undefined, repo).branch, 'master');
  });

  it('uses a detached server HEAD as is, naming the branch when one points at it', () => {
    assert.deepEqual(pickRef(parseLsRemote(`${a}\tHEAD\n${b}\trefs/heads/main\n`), undefined, repo), {
      commit: a,
      refName: undefined,
      branch: undefined,
    });
    assert.equal(
      pickRef(parseLsRemote(`${a}\tHEAD\n${a}\trefs/heads/trunk\n`), undefined, repo).branch,
      'trunk',
    );
  });

  it('prefers a branch over a tag of the same name, and either over a commit id', () => {
    const refs = parseLsRemote(`${a}\trefs/heads/deadbeef\n${b}\trefs/tags/deadbeef\n`);
    assert.equal(pickRef(refs, 'deadbeef', repo).commit, a);
    assert.equal(pickRef(refs, 'refs/tags/deadbeef', repo).commit, b);
  });

  it('ignores ref names from the server that could be read as options', () => {
    const refs = parseLsRemote(`${a}\trefs/heads/main\n${b}\trefs/heads/--upload-pack=evil\n`);
    assert.throws(() => pickRef(refs, '--upload-pack=evil', repo), { code: 'REF_NOT_FOUND' });
  });

  it('reports a repository with only unusual refs and no branches as having no default branch', () => {
    const refs = parseLsRemote(`${a}\trefs/tags/v1\n`);
    assert.throws(() => pickRef(refs, undefined, repo), {
      code: 'REF_NOT_FOUND',
      message: /no default branch/,
    });
    assert.equal(pickRef(refs, 'v1', repo).commit, a);
  });
});
