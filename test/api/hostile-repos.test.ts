// Repositories that attack the host and other users through the API: pin files and a Makefile
// symlinked to host secrets (nothing the server answers carries them), and an install script
// planted by one user (never restored, as cached, into another user's workspace).

import assert from 'node:assert/strict';
import { access, mkdir, mkdtemp, readFile, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Workspace as WireWorkspace } from '../../src/wire/workspaces.js';
import { makeRepo } from '../support/git-fixtures.js';
import { type GitHttpServer, startGitHttpServer } from '../support/git-http-server.js';
import { secretMarkers, symlinkedSecretsRepo } from '../support/hostile-repo.js';
import {
  asAnotherUser,
  createAndWaitRunning,
  startTestServer,
  type TestServer,
  waitForStatus,
} from '../support/nixspace-server.js';

type Workspace = WireWorkspace<{
  diagnostics: { severity: string; code?: string; message: string; file?: string }[];
  installs: { label: string; result: string }[];
}>;

/** A Node project with a lockfile whose one dependency is local, so `npm ci` needs no registry. */
function lockedProject(scripts: Record<string, string>): Record<string, string> {
  const dependencies = { 'local-lib': 'file:lib' };
  return {
    'package.json': JSON.stringify({ name: 'app', version: '1.0.0', scripts, dependencies }),
    'package-lock.json': JSON.stringify({
      name: 'app',
      version: '1.0.0',
      lockfileVersion: 3,
      requires: true,
      packages: {
        '': { name: 'app', version: '1.0.0', dependencies },
        lib: { name: 'local-lib', version: '1.0.0' },
        'node_modules/local-lib': { resolved: 'lib', link: true },
      },
    }),
    'lib/package.json': JSON.stringify({ name: 'local-lib', version: '1.0.0', main: 'index.js' }),
    'lib/index.js': "module.exports = 'local-lib works';\n",
  };
}

describe('hostile repositories through the API', () => {
  let git: GitHttpServer;
  let server: TestServer;
  let hostDir: string;

  before(async () => {
    hostDir = await mkdtemp(join(tmpdir(), 'nixspace-host-secrets-'));
    git = await startGitHttpServer();
    await makeRepo(git.root, 'symlinked-secrets.git', await symlinkedSecretsRepo(hostDir));
    await makeRepo(git.root, 'backdoored.git', {
      files: lockedProject({ postinstall: 'echo backdoor > node_modules/.backdoor' }),
    });
    await makeRepo(git.root, 'clean.git', { files: lockedProject({}) });
    await makeRepo(git.root, 'plain.git');
    server = await startTestServer();
  });
  after(async () => {
    await server?.close();
    await git?.close();
    await rm(hostDir, { recursive: true, force: true });
  });

  it('answers nothing a symlink of the repository points at: view, diagnostics, tools, suggested jobs', async () => {
    const ws = await createAndWaitRunning<Workspace>(server, git.url('symlinked-secrets.git'));
    const tools = await server.graphql<{ getEnvironment: { environment: { tools: unknown[] } } }>(
      'query($id: ID!) { getEnvironment(id: $id) { steps { name detail } environment { tools { name wanted requested provided source message } } } }',
      { id: ws.id },
    );
    assert.ok(tools.data?.getEnvironment.environment.tools.length, JSON.stringify(tools));
    const jobs = await server.api<{ jobs: { name: string }[] }>(`/api/workspaces/${ws.id}/suggested-jobs`);
    assert.ok(
      jobs.body.jobs.some((j) => j.name === 'build'),
      JSON.stringify(jobs.body),
    );
    const answers = [
      JSON.stringify(ws),
      JSON.stringify((await server.api(`/api/workspaces/${ws.id}`)).body),
      JSON.stringify(jobs.body),
      JSON.stringify((await server.api(`/api/workspaces/${ws.id}/versions`)).body),
      JSON.stringify(tools),
    ];
    for (const answer of answers)
      for (const marker of secretMarkers) assert.ok(!answer.includes(marker), `${marker} in ${answer}`);
    const messages = ws.environment?.diagnostics.map((d) => d.message) ?? [];
    assert.ok(messages.includes('`.nvmrc` is a symlink: ignored'), JSON.stringify(messages));
    assert.ok(messages.includes('`Makefile` is a symlink: ignored'), JSON.stringify(messages));
  });

  it("never restores one user's install, its postinstall included, into another user's workspace", async () => {
    const mine = await createAndWaitRunning<Workspace>(server, git.url('backdoored.git'));
    assert.deepEqual(
      mine.environment?.installs.map((i) => [i.label, i.result]),
      [['npm ci', 'installed']],
    );

    const victim = await asAnotherUser(server, 'victim@example.test');
    for (const repo of ['clean.git', 'backdoored.git']) {
      const theirs = await createAndWaitRunning<Workspace>(victim, git.url(repo));
      assert.deepEqual(
        theirs.environment?.installs.map((i) => [i.label, i.result]),
        [['npm ci', 'installed']],
        `${repo}: another user's install is not restored as cached`,
      );
      const backdoor = join(server.dataDir, 'workspaces', theirs.id, 'repo', 'node_modules', '.backdoor');
      const planted = await access(backdoor).then(
        () => true,
        () => false,
      );
      assert.equal(planted, repo === 'backdoored.git', `${repo}: only its own postinstall ran`);
    }
  });
  it("copies no host file into a branch through a symlink the parent's workspace planted", async () => {
    // Nothing to install: the branch keeps the record it copied.
    const parent = await createAndWaitRunning<Workspace>(server, git.url('plain.git'));
    // What a process of the parent's sandbox can do to its own state.
    const record = join(server.dataDir, 'workspaces', parent.id, '.nixspace', 'installed.json');
    await mkdir(dirname(record), { recursive: true });
    await rm(record, { force: true });
    await symlink(join(hostDir, 'token-key'), record);
    const branched = await server.api<Workspace>(`/api/workspaces/${parent.id}/branch`, {
      method: 'POST',
      body: {},
    });
    assert.equal(branched.status, 201, JSON.stringify(branched.body));
    await waitForStatus(server, branched.body.id, ['running', 'failed']);
    const copied = await readFile(
      join(server.dataDir, 'workspaces', branched.body.id, '.nixspace', 'installed.json'),
      'utf8',
    ).catch(() => '');
    for (const marker of secretMarkers)
      assert.ok(!copied.includes(marker), `${marker} copied into the branch`);
  });
});
