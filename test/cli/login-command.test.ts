// `nixspace login` and `--server URL`: a session spent from a one-time link, kept per server in a
// file only its owner can read, used by later commands; and the errors of a server that is not there.

import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { runCli } from '../support/cli.js';
import { closedPort, makeRepo } from '../support/git-fixtures.js';
import { type GitHttpServer, startGitHttpServer } from '../support/git-http-server.js';
import { startTestServer, type TestServer } from '../support/nixspace-server.js';

describe('nixspace login and --server', () => {
  let server: TestServer;
  let git: GitHttpServer;
  let config: string;
  let env: NodeJS.ProcessEnv;

  before(async () => {
    server = await startTestServer();
    git = await startGitHttpServer();
    await makeRepo(git.root, 'app.git');
    config = await mkdtemp(join(tmpdir(), 'nixspace-config-'));
    env = { XDG_CONFIG_HOME: config, NIXSPACE_SERVER: '', NIXSPACE_DATA_DIR: join(config, 'no-server-here') };
  });

  after(async () => {
    await server?.close();
    await git?.close();
    await rm(config, { recursive: true, force: true });
  });

  it('spends a sign-in link for a session kept in credentials.json (0600) and uses it with --server', async () => {
    const link = await server.nixspace.ownerLoginLink();
    const login = await runCli(['login', '--server', `${server.url}/`, link], { env });
    assert.equal(login.code, 0, login.stderr);
    assert.match(login.stdout, new RegExp(`Signed in to ${server.url} as owner@localhost`));

    const file = join(config, 'nixspace', 'credentials.json');
    assert.equal((await stat(file)).mode & 0o777, 0o600);
    assert.equal((await stat(join(config, 'nixspace'))).mode & 0o777, 0o700);
    const saved = JSON.parse(await readFile(file, 'utf8')) as { servers: Record<string, { cookie: string }> };
    assert.match(saved.servers[server.url]!.cookie, /^nixspace_session=/);

    const list = await runCli(['list', '--server', server.url], { env });
    assert.equal(list.code, 0, list.stderr);
    assert.match(list.stdout, new RegExp(`^Workspaces on ${server.url}:\\nNo workspaces yet`));
    // The progress stream goes by the stored session too.
    const up = await runCli(['up', git.url('app.git'), '--server', server.url], { env });
    assert.equal(up.code, 0, up.stderr);
    assert.match(
      up.stdout,
      /✓ Ready\s+\d+ ms\napp is running at main @ [0-9a-f]{12}\n {2}http:\/\/127\.0\.0\.1:\d+\/w\//,
    );
    // NIXSPACE_SERVER stands for --server.
    const byEnv = await runCli(['list'], { env: { ...env, NIXSPACE_SERVER: server.url } });
    assert.equal(byEnv.code, 0, byEnv.stderr);

    // The link was spent: a second login with it is refused, naming why.
    const again = await runCli(['login', link], { env });
    assert.equal(again.code, 1);
    assert.match(again.stderr, /the sign-in link is not valid: it was used already or has expired/);

    const logout = await runCli(['logout', '--server', server.url], { env });
    assert.equal(logout.code, 0, logout.stderr);
    const after = await runCli(['list', '--server', server.url], { env });
    assert.equal(after.code, 1);
    assert.match(
      after.stderr,
      new RegExp(`not signed in to ${server.url}: run \`nixspace login --server ${server.url}\``),
    );
  });

  it('says how to get a sign-in link when none is given', async () => {
    const { code, stderr } = await runCli(['login', '--server', server.url], { env });
    assert.equal(code, 2);
    assert.match(
      stderr,
      /needs a one-time sign-in link for .*: run `nixspace login-link` on the server's machine/,
    );
  });

  it('names a server that is not there instead of listing nothing', async () => {
    const port = await closedPort();
    const gone = `http://127.0.0.1:${port}`;
    const link = await server.nixspace.ownerLoginLink();
    const login = await runCli(['login', '--server', gone, link], { env });
    assert.equal(login.code, 1);
    assert.match(login.stderr, new RegExp(`no NixSpace server answers at ${gone} \\(ECONNREFUSED\\)`));

    const none = await runCli(['list'], { env });
    assert.equal(none.code, 1);
    assert.match(
      none.stderr,
      /no NixSpace server is running with data directory .*no-server-here: start one with `nixspace serve`, or pass --server URL/,
    );
    assert.doesNotMatch(none.stdout, /No workspaces/);
    const badUrl = await runCli(['list', '--server', 'not a url'], { env });
    assert.equal(badUrl.code, 1);
    assert.match(badUrl.stderr, /--server needs a URL such as http:\/\/127\.0\.0\.1:7777/);
  });
});
