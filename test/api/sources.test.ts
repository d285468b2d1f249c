// Where workspaces may come from (issue 11): no credentials in repository URLs (they were stored
// and shown to share-link viewers), local paths only on a server started with
// --allow-local-sources and never inside its data directory (another workspace's checkout
// included), and no link-local or metadata address. A refused URL leaves nothing behind.

import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { sql } from 'kysely';
import { makeRepo } from '../support/git-fixtures.js';
import { type GitHttpServer, startGitHttpServer } from '../support/git-http-server.js';
import {
  createAndWaitRunning,
  createRunningWorkspace,
  startTestServer,
  type TestServer,
} from '../support/nixspace-server.js';

interface ErrorBody {
  code: string;
  message: string;
  detail?: string;
}

let git: GitHttpServer;
let scratch: string;
let localRepo: string;

before(async () => {
  git = await startGitHttpServer();
  await makeRepo(git.root, 'app.git', { files: { 'README.md': 'hello\n' } });
  scratch = await mkdtemp(join(tmpdir(), 'nixspace-sources-'));
  localRepo = (await makeRepo(scratch, 'local.git', { files: { 'README.md': 'local\n' } })).dir;
});

after(async () => {
  await git?.close();
  await rm(scratch, { recursive: true, force: true });
});

async function workspaceCount(server: TestServer): Promise<number> {
  const { rows } = await sql<{ n: string }>`SELECT count(*) AS n FROM workspaces`.execute(
    server.nixspace.store.db,
  );
  return Number(rows[0]?.n);
}

/** Creates over REST and GraphQL; both must refuse with `code`, storing nothing. */
async function expectRefused(server: TestServer, repoUrl: string, code: string, message: RegExp) {
  const count = await workspaceCount(server);
  const rest = await server.api<ErrorBody>('/api/workspaces', { method: 'POST', body: { repoUrl } });
  assert.equal(rest.status, 400, JSON.stringify(rest.body));
  assert.equal(rest.body.code, code);
  assert.match(rest.body.message, message);
  const gql = await server.graphql('mutation($u: String!) { createEnvironment(repoUrl: $u) { id } }', {
    u: repoUrl,
  });
  assert.equal(gql.errors?.[0]?.extensions?.code, code, JSON.stringify(gql));
  assert.equal(await workspaceCount(server), count, 'no workspace was stored');
  return { rest, gql };
}

describe('repository sources on a server with the default settings', () => {
  let server: TestServer;

  before(async () => {
    server = await startTestServer();
  });

  after(async () => {
    await server?.close();
  });

  it('refuses a URL with credentials, says why, and keeps the secret out of every response and the database', async () => {
    const secret = 'ghp_s3cr3tT0ken';
    for (const url of [
      git.url('app.git').replace('http://', `http://user:${secret}@`),
      git.url('app.git').replace('http://', `http://${secret}@`),
    ]) {
      const { rest, gql } = await expectRefused(server, url, 'BAD_REQUEST', /credentials are not accepted/);
      assert.match(rest.body.message, /credential setup/);
      assert.ok(!JSON.stringify(rest.body).includes(secret), JSON.stringify(rest.body));
      assert.ok(!JSON.stringify(gql).includes(secret), JSON.stringify(gql));
    }
    const list = await server.api('/api/workspaces');
    assert.ok(!JSON.stringify(list.body).includes(secret));
    const { rows } = await sql<{
      n: string;
    }>`SELECT count(*) AS n FROM workspaces WHERE repo_url LIKE ${`%${secret}%`}`.execute(
      server.nixspace.store.db,
    );
    assert.equal(Number(rows[0]?.n), 0);
    assert.equal(
      existsSync(join(server.dataDir, 'mirrors')) &&
        (await readdir(join(server.dataDir, 'mirrors'))).length > 0,
      false,
      'nothing was fetched',
    );
  });

  it('refuses link-local, metadata and unspecified addresses before fetching anything', async () => {
    for (const url of [
      'http://169.254.169.254/latest/meta-data.git',
      'http://2852039166/latest.git',
      'http://[fd00:ec2::254]/x.git',
      'http://[fe80::1]/x.git',
      `http://0.0.0.0:${git.port}/app.git`,
    ]) {
      await expectRefused(server, url, 'BAD_REQUEST', /does not fetch from such addresses/);
    }
  });

  it('refuses a local path or file:// URL, naming the flag that allows them', async () => {
    for (const url of [localRepo, `file://${localRepo}`]) {
      await expectRefused(server, url, 'BAD_REQUEST', /--allow-local-sources/);
    }
  });

  it('still creates workspaces from a git server on loopback', async () => {
    await createRunningWorkspace(server, git.url('app.git'));
  });
});

describe('repository sources on a server started with --allow-local-sources', () => {
  let server: TestServer;
  let otherId: string;

  before(async () => {
    server = await startTestServer({ config: { allowLocalSources: true } });
    otherId = await createRunningWorkspace(server, git.url('app.git'));
  });

  after(async () => {
    await server?.close();
  });

  it("refuses another workspace's checkout and anything else in the data directory", async () => {
    for (const url of [
      join(server.dataDir, 'workspaces', otherId, 'repo'),
      `file://${join(server.dataDir, 'workspaces', otherId, 'repo')}`,
      join(server.dataDir, 'mirrors'),
      server.dataDir,
    ]) {
      await expectRefused(server, url, 'BAD_REQUEST', /inside this server's data directory/);
    }
  });

  it('refuses a symlink that leads into the data directory', async () => {
    const link = join(scratch, 'innocent.git');
    await symlink(join(server.dataDir, 'workspaces', otherId, 'repo'), link);
    await expectRefused(server, link, 'BAD_REQUEST', /inside this server's data directory/);
  });

  it('creates a workspace from a local repository elsewhere', async () => {
    const ws = await createAndWaitRunning<{ repoUrl: string; name: string }>(server, `file://${localRepo}`);
    assert.equal(ws.name, 'local');
  });
});
