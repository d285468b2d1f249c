// `nixspace list` and `nixspace switch` as a person runs them: real processes talking to a real
// server through its admin socket and REST API.

import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { runCli } from '../support/cli.js';
import { commitFiles, git as gitIn, makeRepo } from '../support/git-fixtures.js';
import { type GitHttpServer, startGitHttpServer } from '../support/git-http-server.js';
import { createRunningWorkspace, startTestServer, type TestServer } from '../support/nixspace-server.js';

const nixspace = (...args: string[]) => runCli(args);

describe('nixspace list and switch', () => {
  let git: GitHttpServer;
  let server: TestServer;
  let featureCommit: string;
  let id: string;

  before(async () => {
    git = await startGitHttpServer();
    await makeRepo(git.root, 'app.git', { files: { 'notes.txt': 'on main\n' } });
    const gitDir = join(git.root, 'app.git');
    const parent = await gitIn(['--git-dir', gitDir, 'rev-parse', 'refs/heads/main']);
    featureCommit = await commitFiles(gitDir, {
      parent,
      files: { 'notes.txt': 'on feature\n' },
      message: 'Feature',
    });
    await gitIn(['--git-dir', gitDir, 'update-ref', 'refs/heads/feature', featureCommit]);
    server = await startTestServer();
    id = await createRunningWorkspace(server, git.url('app.git'));
  });

  after(async () => {
    await server?.close();
    await git?.close();
  });

  it('lists the workspaces of the running server', async () => {
    const { code, stdout } = await nixspace('list', '--data-dir', server.dataDir);
    assert.equal(code, 0);
    // The server's default lifetime gives it a deadline, which the line ends with.
    assert.match(
      stdout,
      new RegExp(
        `^${id}\\s+running\\s+.*app\\s+main @ [0-9a-f]{12}  deleted at \\d{4}-\\d\\d-\\d\\dT\\S+Z$`,
        'm',
      ),
    );
  });

  it('refuses to switch over uncommitted work, naming the file, and switches with --stash', async () => {
    await writeFile(join(server.dataDir, 'workspaces', id, 'repo', 'notes.txt'), 'my edit\n');
    const refused = await nixspace('switch', id.slice(0, 8), 'feature', '--data-dir', server.dataDir);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /uncommitted changes in 1 file[\s\S]*notes\.txt/);

    const { code, stdout } = await nixspace(
      'switch',
      id.slice(0, 8),
      'feature',
      '--stash',
      '--data-dir',
      server.dataDir,
    );
    assert.equal(code, 0, stdout);
    assert.match(stdout, /uncommitted changes stashed: nixspace: before switching to feature/);
    assert.match(stdout, /✓ Detect environment\s+\d+ ms/);
    assert.match(stdout, new RegExp(`is running at feature @ ${featureCommit.slice(0, 12)}`));
    const view = await server.api<{ commit: string }>(`/api/workspaces/${id}`);
    assert.equal(view.body.commit, featureCommit);
  });

  it('names an unknown workspace and a data directory with no server', async () => {
    const unknown = await nixspace('switch', 'ffffffff', 'main', '--data-dir', server.dataDir);
    assert.equal(unknown.code, 1);
    assert.match(unknown.stderr, /no workspace ffffffff/);

    const empty = await mkdtemp(join(tmpdir(), 'nixspace-no-server-'));
    const none = await nixspace('list', '--data-dir', empty);
    assert.equal(none.code, 1);
    assert.match(
      none.stderr,
      /no NixSpace server is running with data directory .*: start one with `nixspace serve`, or pass --server URL/,
    );
    await rm(empty, { recursive: true, force: true });
  });
});
