// `nixspace stop|start|delete|open|logs` as a person runs them against a real server: workspaces
// named by id prefix and by name, ambiguity listed, a job's output read back.

import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { pendingSteps } from '../../src/services/workspaces/workspace-view.js';
import { insertWorkspace } from '../../src/store/workspace-queries.js';
import { runCli } from '../support/cli.js';
import { makeRepo } from '../support/git-fixtures.js';
import { type GitHttpServer, startGitHttpServer } from '../support/git-http-server.js';
import { createRunningWorkspace, startTestServer, type TestServer } from '../support/nixspace-server.js';

describe('nixspace stop, start, delete, open and logs', () => {
  let git: GitHttpServer;
  let server: TestServer;
  let dataDir: string[];

  const create = (repo: string) => createRunningWorkspace(server, git.url(repo));

  const status = async (id: string) =>
    (await server.api<{ status: string }>(`/api/workspaces/${id}`)).body.status;

  before(async () => {
    git = await startGitHttpServer();
    await makeRepo(git.root, 'api.git');
    await makeRepo(git.root, 'web.git');
    server = await startTestServer();
    dataDir = ['--data-dir', server.dataDir];
  });

  after(async () => {
    await server?.close();
    await git?.close();
  });

  it('stops by id prefix, starts by name and deletes by name', async () => {
    const id = await create('api.git');
    const stopped = await runCli(['stop', id.slice(0, 8), ...dataDir]);
    assert.equal(stopped.code, 0, stopped.stderr);
    assert.equal(stopped.stdout, `api is stopped (${id})\n`);
    assert.equal(await status(id), 'stopped');

    const started = await runCli(['start', 'api', ...dataDir]);
    assert.equal(started.code, 0, started.stderr);
    assert.match(
      started.stdout,
      new RegExp(`api is running at main @ [0-9a-f]{12}\\n  ${server.url}/w/${id}\\n`),
    );
    assert.equal(await status(id), 'running');

    const deleted = await runCli(['delete', 'api', ...dataDir]);
    assert.equal(deleted.code, 0, deleted.stderr);
    assert.equal(deleted.stdout, `Deleted api (${id})\n`);
    assert.equal(await status(id), 'deleted');
    const gone = await runCli(['stop', id.slice(0, 8), ...dataDir]);
    assert.equal(gone.code, 1);
    assert.match(gone.stderr, new RegExp(`no workspace ${id.slice(0, 8)} on ${server.url}`));
  });

  it('refuses an ambiguous name or id prefix, listing the candidates', async () => {
    const first = await create('web.git');
    const second = await create('web.git');
    const byName = await runCli(['stop', 'web', ...dataDir]);
    assert.equal(byName.code, 1);
    assert.match(byName.stderr, /the name web matches 2 workspaces: give more of the id/);
    for (const id of [first, second])
      assert.match(byName.stderr, new RegExp(`^  ${id}\\s+running\\s+web`, 'm'));
    assert.equal(await status(first), 'running');

    // Two workspaces whose ids share a prefix, made in the server's own database: random ids
    // would share one only by chance.
    const { body: me } = await server.api<{ user: { id: string } }>('/api/me');
    for (const suffix of ['1', '2']) {
      await insertWorkspace(server.nixspace.store.db, {
        id: `abcdef00-0000-4000-8000-00000000000${suffix}`,
        ownerId: me.user.id,
        name: `twin-${suffix}`,
        repoUrl: git.url('web.git'),
        ref: null,
        steps: pendingSteps(),
      });
    }
    const byPrefix = await runCli(['delete', 'abcdef', ...dataDir]);
    assert.equal(byPrefix.code, 1);
    assert.match(byPrefix.stderr, /abcdef matches 2 workspaces: give more of the id/);
    assert.match(byPrefix.stderr, /abcdef00-0000-4000-8000-000000000001 .* twin-1/);
    assert.match(byPrefix.stderr, /abcdef00-0000-4000-8000-000000000002 .* twin-2/);
    const exact = await runCli(['delete', 'abcdef00-0000-4000-8000-000000000001', ...dataDir]);
    assert.equal(exact.code, 0, exact.stderr);
  });

  it('prints how a workspace was made and its jobs, and a job’s output', async () => {
    const id = await create('api.git');
    const run = await server.api<{ id: string }>('/api/jobs', {
      method: 'POST',
      body: { command: 'echo out-of-job; echo warned >&2; exit 3', target: id },
    });
    assert.equal(run.status, 201, JSON.stringify(run.body));
    const jobId = run.body.id;
    for (;;) {
      const { body } = await server.api<{ job: { status: string } }>(`/api/jobs/${jobId}`);
      if (body.job.status !== 'running') break;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }

    const logs = await runCli(['logs', id.slice(0, 8), ...dataDir]);
    assert.equal(logs.code, 0, logs.stderr);
    assert.match(logs.stdout, new RegExp(`^api \\(${id}\\) from .*api\\.git$`, 'm'));
    assert.match(logs.stdout, /✓ Resolve ref\s+\d+ ms {2}refs\/heads\/main → [0-9a-f]{12}/);
    assert.match(logs.stdout, /✓ Ready\s+\d+ ms/);
    assert.match(logs.stdout, /^Now running at main @ [0-9a-f]{12}$/m);
    assert.match(logs.stdout, new RegExp(`^  ${jobId}  failed \\(exit 3\\)\\s+\\S+  echo out-of-job`, 'm'));

    const job = await runCli(['logs', id.slice(0, 8), '--job', jobId.slice(0, 6), ...dataDir]);
    assert.equal(job.code, 0, job.stderr);
    // stdout and stderr are separate pipes: their order in the log is the order they were read.
    assert.match(job.stdout, /^out-of-job$/m);
    assert.match(job.stdout, /^warned$/m);
    assert.match(job.stderr, new RegExp(`${jobId}  failed \\(exit 3\\)`));
    const latest = await runCli(['logs', id.slice(0, 8), '--job', 'latest', ...dataDir]);
    assert.equal(latest.stdout, job.stdout);
  });

  it('follows a workspace that is still being made until it runs', async () => {
    const created = await server.api<{ id: string }>('/api/workspaces', {
      method: 'POST',
      body: { repoUrl: git.url('web.git') },
    });
    const logs = await runCli(['logs', created.body.id, ...dataDir]);
    assert.equal(logs.code, 0, logs.stderr);
    assert.match(logs.stdout, /✓ Ready\s+\d+ ms/);
    assert.match(logs.stdout, /^Now running at main @ [0-9a-f]{12}$/m);
    assert.equal(await status(created.body.id), 'running');
  });

  it('says when there is no browser to open a workspace with', async () => {
    const id = (await server.api<{ workspaces: { id: string; name: string }[] }>('/api/workspaces')).body
      .workspaces[0]!.id;
    const empty = await mkdtemp(join(tmpdir(), 'nixspace-no-browser-'));
    try {
      const opened = await runCli(['open', id, ...dataDir], { env: { PATH: empty, BROWSER: '' } });
      assert.equal(opened.code, 0, opened.stderr);
      assert.match(opened.stdout, new RegExp(`  ${server.url}/w/${id}\\n`));
      assert.match(
        opened.stderr,
        new RegExp(`no xdg-open here to open a browser with: open ${server.url}/w/${id} yourself`),
      );
    } finally {
      await rm(empty, { recursive: true, force: true });
    }
  });
});
