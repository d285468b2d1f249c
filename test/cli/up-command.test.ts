// `nixspace up` as a person runs it: a real process asking a real server, through its admin
// socket, to create a workspace from a real repository served over loopback HTTP.

import assert from 'node:assert/strict';
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { runCli } from '../support/cli.js';
import { makeRepo } from '../support/git-fixtures.js';
import { type GitHttpServer, startGitHttpServer } from '../support/git-http-server.js';
import { startTestServer, type TestServer } from '../support/nixspace-server.js';

describe('nixspace up', () => {
  let git: GitHttpServer;
  let server: TestServer;
  let scratch: string;

  before(async () => {
    git = await startGitHttpServer();
    await makeRepo(git.root, 'app.git', { tags: [{ name: 'v1' }] });
    server = await startTestServer();
    scratch = await mkdtemp(join(tmpdir(), 'nixspace-up-cli-'));
  });

  after(async () => {
    await server?.close();
    await git?.close();
    await rm(scratch, { recursive: true, force: true });
  });

  it('creates a workspace, prints each step with its timing and the URL, opens it, and exits 0', async () => {
    // A browser that writes down what it was asked to open.
    const opened = join(scratch, 'opened.txt');
    const browser = join(scratch, 'browser.sh');
    await writeFile(browser, `#!/bin/sh\nprintf '%s' "$1" > ${JSON.stringify(opened)}\n`);
    await chmod(browser, 0o755);

    const { code, stdout, stderr } = await runCli(
      ['up', git.url('app.git'), '--ref', 'v1', '--open', '--data-dir', server.dataDir],
      { env: { BROWSER: browser } },
    );
    assert.equal(code, 0, stderr);
    const id =
      /^Creating app \(([0-9a-f-]{36})\) from .*app\.git at v1 on http:\/\/127\.0\.0\.1:\d+ \(data directory /m.exec(
        stdout,
      )?.[1];
    assert.ok(id, stdout);
    for (const step of [
      'Resolve ref',
      'Fetch',
      'Check out',
      'Detect environment',
      'Start sandbox',
      'Ready',
    ]) {
      assert.match(stdout, new RegExp(`[✓-] ${step}\\s+\\d+ ms`), stdout);
    }
    const url = `${server.url}/w/${id}`;
    assert.match(stdout, new RegExp(`app is running at detached @ [0-9a-f]{12}\\n  ${url}\\n`));
    const view = await server.api<{ status: string }>(`/api/workspaces/${id}`);
    assert.equal(view.body.status, 'running');
    assert.match(stdout, /Opened in the browser/);
    assert.equal(await readFile(opened, 'utf8'), url);
  });

  it('exits 1 with the error code and message for a ref the repository does not have', async () => {
    const { code, stdout, stderr } = await runCli([
      'up',
      git.url('app.git'),
      '--ref',
      'no-such-branch',
      '--data-dir',
      server.dataDir,
    ]);
    assert.equal(code, 1);
    assert.match(stdout, /✗ Resolve ref/);
    assert.match(stderr, /app did not start: REF_NOT_FOUND: .*no-such-branch.*\(step: Resolve ref\)/);
  });

  it('exits 1 with the error code and message for a repository that does not exist or a bad URL', async () => {
    const missing = await runCli(['up', git.url('missing.git'), '--data-dir', server.dataDir]);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /REPO_NOT_FOUND: .*missing\.git/);

    const bad = await runCli(['up', 'ftp://example.com/app.git', '--data-dir', server.dataDir]);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /^nixspace: UNSUPPORTED_SCHEME: /m);
    assert.equal(bad.stdout, '');
  });

  it('asks for a repository URL', async () => {
    const { code, stderr } = await runCli(['up', '--data-dir', server.dataDir]);
    assert.equal(code, 2);
    assert.match(stderr, /nixspace up needs one repository URL/);
  });
});
