import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { NixSpaceError } from '../errors.js';
import { parseRepoUrl } from './repo-url.js';
import { SourcePolicy, type SourcePolicyOptions } from './source-policy.js';

let scratch: string;
let dataDir: string;
let outside: string;

before(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'nixspace-source-policy-'));
  dataDir = join(scratch, 'data');
  outside = join(scratch, 'repos', 'app.git');
  await mkdir(join(dataDir, 'workspaces', 'w1', 'repo'), { recursive: true });
  await mkdir(outside, { recursive: true });
  await symlink(join(dataDir, 'workspaces', 'w1', 'repo'), join(scratch, 'repos', 'sneaky'));
});

after(async () => {
  await rm(scratch, { recursive: true, force: true });
});

const names: Record<string, string[]> = {
  'metadata.google.internal': ['169.254.169.254'],
  'mixed.example': ['140.82.112.3', 'fe80::1'],
  'git.internal.example': ['10.1.2.3'],
  'v6.example': ['2606:4700::1111'],
};
function policy(overrides: Partial<SourcePolicyOptions> = {}): SourcePolicy {
  return new SourcePolicy({
    allowLocal: false,
    forbiddenDirs: [dataDir],
    resolve: async (host) => {
      const found = names[host];
      if (!found) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${host}`), { code: 'ENOTFOUND' });
      return found;
    },
    ...overrides,
  });
}

async function refused(promise: Promise<unknown>, code: string, pattern: RegExp): Promise<NixSpaceError> {
  const error = await promise.then(
    () => assert.fail('expected a refusal'),
    (e: unknown) => e,
  );
  assert.ok(error instanceof NixSpaceError, String(error));
  assert.equal(error.code, code, error.message);
  assert.match(error.message, pattern);
  return error;
}

describe('SourcePolicy', () => {
  it('refuses URLs with credentials, without repeating the secret', async () => {
    for (const url of [
      'https://user:s3cr3t-t0ken@example.com/o/r.git',
      'https://s3cr3t-t0ken@example.com/o/r.git',
      'http://user:s3cr3t-t0ken@127.0.0.1:9/o/r.git',
    ]) {
      const error = await refused(
        policy().admit(parseRepoUrl(url)),
        'BAD_REQUEST',
        /credentials are not accepted/,
      );
      assert.ok(!error.message.includes('s3cr3t'), error.message);
      assert.match(error.message, /without them|credential setup/);
    }
  });

  it('refuses metadata, link-local and unspecified address literals in any spelling', async () => {
    for (const url of [
      'http://169.254.169.254/latest.git',
      'http://2852039166/latest.git',
      'http://0251.0376.0251.0376/x.git',
      'http://[fd00:ec2::254]/x.git',
      'http://[::ffff:169.254.169.254]/x.git',
      'https://169.254.10.10/x.git',
      'http://[fe80::1]/x.git',
      'http://0.0.0.0:8080/x.git',
      'http://[::]/x.git',
    ]) {
      await refused(policy().admit(parseRepoUrl(url)), 'BAD_REQUEST', /does not fetch from such addresses/);
    }
  });

  it('refuses a host name that resolves to a refused address, naming both', async () => {
    await refused(
      policy().admit(parseRepoUrl('http://metadata.google.internal/computeMetadata/x.git')),
      'BAD_REQUEST',
      /metadata\.google\.internal resolves to 169\.254\.169\.254/,
    );
    await refused(
      policy().access(parseRepoUrl('https://mixed.example/o/r.git')),
      'BAD_REQUEST',
      /link-local/,
    );
  });

  it('allows loopback and private addresses, and pins git to the addresses it checked', async () => {
    await policy().admit(parseRepoUrl('http://127.0.0.1:8080/o/r.git'));
    await policy().admit(parseRepoUrl('http://[::1]:8080/o/r.git'));
    assert.deepEqual(await policy().access(parseRepoUrl('http://192.168.1.10/o/r.git')), {
      url: 'http://192.168.1.10/o/r.git',
      gitConfig: [],
    });
    assert.deepEqual(await policy().access(parseRepoUrl('https://git.internal.example/o/r.git')), {
      url: 'https://git.internal.example/o/r.git',
      gitConfig: ['-c', 'http.curloptResolve=git.internal.example:443:10.1.2.3'],
    });
    assert.deepEqual((await policy().access(parseRepoUrl('http://v6.example:8080/o/r.git'))).gitConfig, [
      '-c',
      'http.curloptResolve=v6.example:8080:[2606:4700::1111]',
    ]);
  });

  it('lets a host name that does not resolve be created, but not fetched', async () => {
    const repo = parseRepoUrl('https://nowhere.example/o/r.git');
    await policy().admit(repo);
    await refused(
      policy().access(repo),
      'HOST_UNREACHABLE',
      /nowhere\.example: the host name does not resolve/,
    );
  });

  it('refuses local paths unless local sources are allowed', async () => {
    for (const url of [outside, `file://${outside}`]) {
      await refused(policy().admit(parseRepoUrl(url)), 'BAD_REQUEST', /--allow-local-sources/);
      await refused(policy().access(parseRepoUrl(url)), 'BAD_REQUEST', /--allow-local-sources/);
    }
  });

  it('refuses a local path inside the data directory, also through a symlink or "..", even when allowed', async () => {
    const allowed = policy({ allowLocal: true });
    for (const url of [
      join(dataDir, 'workspaces', 'w1', 'repo'),
      dataDir,
      `file://${dataDir}/workspaces`,
      join(scratch, 'repos', 'sneaky'),
      `${join(scratch, 'repos')}/../data/workspaces/w1`,
    ]) {
      await refused(allowed.admit(parseRepoUrl(url)), 'BAD_REQUEST', /inside this server's data directory/);
      await refused(allowed.access(parseRepoUrl(url)), 'BAD_REQUEST', /inside this server's data directory/);
    }
  });

  it('allows other local paths when local sources are allowed, giving git their real path', async () => {
    const allowed = policy({ allowLocal: true });
    await allowed.admit(parseRepoUrl(outside));
    assert.deepEqual(await allowed.access(parseRepoUrl(`file://${outside}`)), {
      url: outside,
      gitConfig: [],
    });
    await refused(
      allowed.access(parseRepoUrl(join(scratch, 'missing.git'))),
      'REPO_NOT_FOUND',
      /no git repository at that path/,
    );
  });
});
