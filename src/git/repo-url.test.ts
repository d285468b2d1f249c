import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { NixSpaceError } from '../errors.js';
import { parseRepoUrl, redactUrl } from './repo-url.js';

function rejects(input: string, code: string, mentions: string[]): void {
  assert.throws(
    () => parseRepoUrl(input),
    (error: unknown) => {
      assert.ok(error instanceof NixSpaceError, `expected a NixSpaceError for ${JSON.stringify(input)}`);
      assert.equal(error.code, code, `${JSON.stringify(input)}: ${error.message}`);
      for (const text of mentions)
        assert.ok(error.message.includes(text), `"${error.message}" should mention "${text}"`);
      return true;
    },
  );
}

describe('parseRepoUrl', () => {
  it('accepts an https URL, dropping a trailing slash and keeping .git as given', () => {
    const withGit = parseRepoUrl('https://github.com/owner/repo.git/');
    assert.equal(withGit.url, 'https://github.com/owner/repo.git');
    assert.equal(withGit.scheme, 'https');
    assert.equal(withGit.displayName, 'owner/repo');
    const without = parseRepoUrl('  https://GitHub.com/owner/repo  ');
    assert.equal(without.url, 'https://github.com/owner/repo');
    assert.equal(without.displayName, 'owner/repo');
  });

  it('accepts http for self-hosted servers and loopback, with a port', () => {
    const repo = parseRepoUrl('http://127.0.0.1:4123/nope.git');
    assert.equal(repo.url, 'http://127.0.0.1:4123/nope.git');
    assert.equal(repo.scheme, 'http');
    assert.equal(repo.displayName, 'nope');
  });

  it('keeps credentials for git but never in safeUrl, displayName or mirrorKey', () => {
    const repo = parseRepoUrl('https://user:s3cret@git.example.com/team/app.git');
    assert.equal(repo.url, 'https://user:s3cret@git.example.com/team/app.git');
    assert.equal(repo.safeUrl, 'https://git.example.com/team/app.git');
    assert.equal(repo.displayName, 'team/app');
    assert.ok(!repo.mirrorKey.includes('s3cret'));
    // A rotated token must reuse the same mirror.
    assert.equal(repo.mirrorKey, parseRepoUrl('https://git.example.com/team/app.git').mirrorKey);
  });

  it('drops a browser fragment', () => {
    assert.equal(parseRepoUrl('https://github.com/owner/repo#readme').url, 'https://github.com/owner/repo');
  });

  it('accepts file:// URLs and absolute paths as local repositories', () => {
    const fromUrl = parseRepoUrl('file:///srv/git/project.git/');
    assert.equal(fromUrl.url, '/srv/git/project.git');
    assert.equal(fromUrl.scheme, 'file');
    assert.equal(fromUrl.displayName, 'project');
    const fromPath = parseRepoUrl('/srv/git/../git/project.git');
    assert.equal(fromPath.url, '/srv/git/project.git');
    assert.equal(fromPath.mirrorKey, fromUrl.mirrorKey);
    assert.equal(parseRepoUrl('file://localhost/srv/x').url, '/srv/x');
  });

  it('makes mirror keys filesystem-safe, stable and distinct', () => {
    const keys = [
      'https://github.com/owner/repo',
      'https://github.com/owner/repo.git',
      'http://github.com/owner/repo',
      'https://github.com/Owner/repo',
      'https://github.com/owner-repo',
      'https://gitlab.com/owner/repo',
      'https://github.com:8443/owner/repo',
      '/owner/repo',
    ].map((url) => parseRepoUrl(url).mirrorKey);
    assert.equal(new Set(keys).size, keys.length, keys.join('\n'));
    for (const key of keys) assert.match(key, /^[a-z0-9][a-z0-9._-]*-[0-9a-f]{16}$/);
    assert.equal(parseRepoUrl('https://github.com/owner/repo/').mirrorKey, keys[0]);
    assert.match(keys[0]!, /^github\.com-owner-repo-/);
  });

  it('refuses ssh, git, ftp and other schemes, naming the scheme and the supported ones', () => {
    // userinfo is dropped from messages even when it is only a user name: tokens travel there too.
    rejects('ssh://git@github.com/owner/repo.git', 'UNSUPPORTED_SCHEME', [
      'ssh://github.com/owner/repo.git',
      'https://',
    ]);
    rejects('git://github.com/owner/repo.git', 'UNSUPPORTED_SCHEME', [
      'git://github.com/owner/repo.git',
      'git://',
      'https://',
    ]);
    rejects('ftp://example.com/repo.git', 'UNSUPPORTED_SCHEME', ['ftp://example.com/repo.git', 'ftp://']);
    rejects('git+ssh://example.com/repo.git', 'UNSUPPORTED_SCHEME', ['git+ssh://']);
    rejects('mailto:someone', 'UNSUPPORTED_SCHEME', ['mailto:someone', 'mailto:']);
  });

  it('refuses scp-style SSH addresses', () => {
    rejects('git@github.com:owner/repo.git', 'UNSUPPORTED_SCHEME', ['git@github.com:owner/repo.git', 'SSH']);
    rejects('github.com:owner/repo', 'UNSUPPORTED_SCHEME', ['github.com:owner/repo', 'SSH']);
  });

  it('refuses empty, blank and garbage input as INVALID_URL', () => {
    rejects('', 'INVALID_URL', ['empty']);
    rejects('   \n\t ', 'INVALID_URL', ['empty']);
    rejects('not a url', 'INVALID_URL', ['not a url']);
    rejects('https://', 'INVALID_URL', ['https://']);
    rejects('https://github.com', 'INVALID_URL', ['https://github.com', 'no repository path']);
    rejects('https://github.com/', 'INVALID_URL', ['https://github.com/']);
    rejects('http://exa mple.com/x', 'INVALID_URL', ['http://exa mple.com/x']);
    rejects('file://otherhost/srv/repo', 'INVALID_URL', ['otherhost']);
    rejects('file:///', 'INVALID_URL', ['file:///']);
    rejects('/', 'INVALID_URL', ['/']);
  });

  it('refuses relative paths, suggesting https for host-like input', () => {
    rejects('github.com/owner/repo', 'INVALID_URL', [
      'github.com/owner/repo',
      'https://github.com/owner/repo',
    ]);
    rejects('repos/project', 'INVALID_URL', ['repos/project', 'relative']);
    rejects('~/project', 'INVALID_URL', ['~/project']);
  });

  it('never echoes a password in an error message', () => {
    assert.throws(
      () => parseRepoUrl('ftp://user:hunter2@example.com/repo'),
      (error: unknown) => error instanceof NixSpaceError && !error.message.includes('hunter2'),
    );
    assert.equal(redactUrl('https://a:b@host/x'), 'https://host/x');
  });
});
