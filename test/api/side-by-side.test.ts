// Several versions side by side: two workspaces of one repository, each at a branch whose flake
// provides another version of its tool, run at the same time, each with its own PostgreSQL on the
// same port inside its own sandbox, without conflict. Built for real with Nix (offline flakes).

import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Workspace as WireWorkspace } from '../../src/wire/workspaces.js';
import { commitFiles, git as gitIn, makeRepo } from '../support/git-fixtures.js';
import { type GitHttpServer, startGitHttpServer } from '../support/git-http-server.js';
import { writeHelloFlake } from '../support/nix-fixtures.js';
import { openTerminal, startTestServer, type TestServer, waitForStatus } from '../support/nixspace-server.js';

type Workspace = WireWorkspace<{
  hash: string;
  provider: string;
  services: { name: string; status: string; port?: number }[];
}>;

describe('two versions of one repository side by side', () => {
  let git: GitHttpServer;
  let server: TestServer;
  let flakeDir: string;

  before(async () => {
    git = await startGitHttpServer();
    flakeDir = await mkdtemp(join(tmpdir(), 'nixspace-side-by-side-'));
    const compose = 'services:\n  db:\n    image: postgres:15\n';
    await writeHelloFlake(flakeDir, 'tool-version-1');
    await makeRepo(git.root, 'twins.git', {
      files: { 'flake.nix': await readFile(join(flakeDir, 'flake.nix')), 'docker-compose.yml': compose },
    });
    await writeHelloFlake(flakeDir, 'tool-version-2');
    const gitDir = join(git.root, 'twins.git');
    const parent = await gitIn(['--git-dir', gitDir, 'rev-parse', 'refs/heads/main']);
    const commit = await commitFiles(gitDir, {
      parent,
      files: { 'flake.nix': await readFile(join(flakeDir, 'flake.nix'), 'utf8') },
      message: 'Version 2 of the tool',
    });
    await gitIn(['--git-dir', gitDir, 'update-ref', 'refs/heads/v2', commit]);
    server = await startTestServer({ config: { environmentProvider: 'nix', nixOffline: true } });
  });

  after(async () => {
    await server?.close();
    await git?.close();
    await rm(flakeDir, { recursive: true, force: true });
  });

  it('runs both at once, each with its own tool version and its own database', async () => {
    const [first, second] = await Promise.all(
      ['main', 'v2'].map((ref) =>
        server.api<Workspace>('/api/workspaces', {
          method: 'POST',
          body: { repoUrl: git.url('twins.git'), ref },
        }),
      ),
    );
    const one = (await waitForStatus(
      server,
      first!.body.id,
      ['running', 'failed'],
      120_000,
    )) as unknown as Workspace;
    const two = (await waitForStatus(
      server,
      second!.body.id,
      ['running', 'failed'],
      120_000,
    )) as unknown as Workspace;
    for (const ws of [one, two]) {
      assert.equal(ws.status, 'running', JSON.stringify(ws.steps));
      assert.equal(ws.environment?.provider, 'nix');
      assert.equal(ws.environment?.services[0]?.name, 'postgres');
      assert.equal(ws.environment?.services[0]?.status, 'running', JSON.stringify(ws.environment?.services));
    }
    assert.notEqual(one.environment?.hash, two.environment?.hash, 'two environments, built apart');

    // Both run now; each shell sees its own tool and reaches its own database.
    const seen = await Promise.all(
      [one, two].map(async (ws, i) => {
        const terminal = await openTerminal(server, ws.id);
        terminal.type(
          `hello; psql "$DATABASE_URL" -Atc "create table mark (v text); insert into mark values ('ws-${i + 1}'); select string_agg(v, ',') from mark"\r`,
        );
        await terminal.waitFor(
          (t) => /tool-version-\d/.test(t.output) && /\r\nws-\d[^\r]*\r\n/.test(t.output),
          30_000,
        );
        terminal.close();
        return terminal.output;
      }),
    );
    assert.match(seen[0]!, /tool-version-1/);
    assert.doesNotMatch(seen[0]!, /tool-version-2/);
    assert.match(seen[1]!, /tool-version-2/);
    // Each database holds only its own workspace's row: they did not share one.
    assert.match(seen[0]!, /\r\nws-1\r\n/);
    assert.match(seen[1]!, /\r\nws-2\r\n/);
    const both = await Promise.all(
      [one, two].map(async (ws) => (await server.api<Workspace>(`/api/workspaces/${ws.id}`)).body.status),
    );
    assert.deepEqual(both, ['running', 'running']);
  });
});
