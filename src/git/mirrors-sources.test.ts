// GitMirrors under the source policy: git reaches a host name only at the addresses the policy
// checked, refuses what the policy refuses before running, and follows no HTTP redirect.

import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { makeRepo } from '../../test/support/git-fixtures.js';
import { type GitHttpServer, startGitHttpServer } from '../../test/support/git-http-server.js';
import { NixSpaceError } from '../errors.js';
import { GitMirrors } from './mirrors.js';
import { parseRepoUrl } from './repo-url.js';
import { SourcePolicy } from './source-policy.js';

let server: GitHttpServer;
let scratch: string;
let redirector: Server;
let redirectorPort: number;
let redirectorHits = 0;

before(async () => {
  server = await startGitHttpServer();
  scratch = await mkdtemp(join(tmpdir(), 'nixspace-mirrors-sources-'));
  await makeRepo(server.root, 'owner/repo.git', { commits: 1 });
  // Sends every request on to the real git server, as a renamed repository's host would.
  redirector = createServer((req, res) => {
    redirectorHits += 1;
    res.writeHead(301, {
      location: `http://127.0.0.1:${server.port}/owner/repo.git${req.url?.replace(/^\/moved\.git/, '')}`,
    });
    res.end();
  });
  await new Promise<void>((resolve) => redirector.listen(0, '127.0.0.1', resolve));
  redirectorPort = (redirector.address() as AddressInfo).port;
});

after(async () => {
  await new Promise((resolve) => redirector.close(resolve));
  await server.close();
  await rm(scratch, { recursive: true, force: true });
});

let counter = 0;
function mirrors(sources?: SourcePolicy): GitMirrors {
  counter += 1;
  return new GitMirrors({
    mirrorsDir: join(scratch, `mirrors-${counter}`),
    timeoutMs: 10_000,
    maxRepoBytes: 64 * 1024 * 1024,
    ...(sources ? { sources } : {}),
  });
}

/** A resolver that knows names the system's DNS does not. */
const policy = (names: Record<string, string[]>) =>
  new SourcePolicy({
    allowLocal: false,
    forbiddenDirs: [scratch],
    resolve: async (host) => {
      const found = names[host];
      if (!found) throw new Error(`ENOTFOUND ${host}`);
      return found;
    },
  });

describe('GitMirrors with a source policy', () => {
  it('runs git against the addresses the policy resolved, not a second lookup of its own', async () => {
    // No resolver on this machine knows the name: git can only get there through the pinned address.
    const m = mirrors(policy({ 'git.pinned.invalid': ['127.0.0.1'] }));
    const repo = parseRepoUrl(`http://git.pinned.invalid:${server.port}/owner/repo.git`);
    const resolved = await m.resolveRef(repo, undefined);
    assert.match(resolved.commit, /^[0-9a-f]{40}$/);
    const fetched = await m.fetch(repo, { commit: resolved.commit });
    assert.equal(fetched.commit, resolved.commit);
  });

  it('refuses, before git runs, a host name that now resolves to a metadata address', async () => {
    const before = server.requestCount;
    const m = mirrors(policy({ 'rebound.invalid': ['169.254.169.254'] }));
    const repo = parseRepoUrl(`http://rebound.invalid:${server.port}/owner/repo.git`);
    for (const attempt of [m.resolveRef(repo, undefined), m.fetch(repo)]) {
      await assert.rejects(attempt, (error: unknown) => {
        assert.ok(error instanceof NixSpaceError);
        assert.equal(error.code, 'BAD_REQUEST');
        assert.match(error.message, /rebound\.invalid resolves to 169\.254\.169\.254/);
        return true;
      });
    }
    assert.equal(server.requestCount, before);
  });
});

describe('GitMirrors and HTTP redirects', () => {
  it('follows no redirect (one could lead git to a refused address) and says so', async () => {
    const before = server.requestCount;
    const hits = redirectorHits;
    const repo = parseRepoUrl(`http://127.0.0.1:${redirectorPort}/moved.git`);
    for (const attempt of [() => mirrors().resolveRef(repo, undefined), () => mirrors().fetch(repo)]) {
      await assert.rejects(attempt(), (error: unknown) => {
        assert.ok(error instanceof NixSpaceError);
        assert.equal(error.code, 'GIT_FAILED');
        assert.match(error.message, /redirect.*HTTP 301.*does not follow redirects/);
        return true;
      });
    }
    assert.ok(redirectorHits > hits, 'git asked the first server');
    assert.equal(server.requestCount, before, 'git did not follow the redirect');
  });
});
