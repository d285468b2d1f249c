// The brief's 10 GB per workspace, enforced (issue 11, item 8): each workspace's files live on a
// filesystem of their own, so a write past the quota fails inside with ENOSPC and the host disk
// that the database shares is not consumed. Small quotas keep the suite fast.

import assert from 'node:assert/strict';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Workspace } from '../../src/wire/workspaces.js';
import { makeLargeRepo, makeRepo } from '../support/git-fixtures.js';
import { type GitHttpServer, startGitHttpServer } from '../support/git-http-server.js';
import { connectJobs, type JobsClient } from '../support/jobs-client.js';
import { endSandboxesUnder } from '../support/leftover-sandboxes.js';
import { loopDevicesReleased, mountPoints, unmountUnder } from '../support/mounts.js';
import {
  createRunningWorkspace,
  startTestServer,
  type TestServer,
  waitForStatus,
} from '../support/nixspace-server.js';

const MiB = 1024 * 1024;

async function assertNoVolume(server: TestServer, id: string): Promise<void> {
  const dir = join(server.dataDir, 'workspaces', id);
  assert.ok(!(await mountPoints()).includes(dir), `nothing is mounted at ${dir}`);
  assert.ok(await loopDevicesReleased(id), `no loop device is backed by ${id}'s image`);
  assert.equal(existsSync(join(server.dataDir, 'volumes', `${id}.img`)), false, 'the image is removed');
  assert.equal(existsSync(dir), false, 'the workspace directory is removed');
}

describe('disk quota per workspace', () => {
  let gitServer: GitHttpServer;
  let server: TestServer;
  let client: JobsClient;

  before(async () => {
    gitServer = await startGitHttpServer();
    await makeRepo(gitServer.root, 'app.git', { files: { 'README.md': '# app\n' } });
    server = await startTestServer({ config: { limits: { disk: 64 * MiB } } });
    client = await connectJobs(server);
  });

  after(async () => {
    client?.close();
    await server?.close();
    await gitServer?.close();
  });

  async function run(workspace: string, command: string) {
    const answer = await client.execute({ command, target: workspace });
    assert.ok(answer.job, `the job started: ${JSON.stringify(answer.error)}`);
    const done = await client.waitForDone(answer.job.id);
    return {
      exitCode: done.exitCode,
      stdout: client.text(answer.job.id, ['stdout']),
      all: client.text(answer.job.id),
    };
  }

  it('fails a write past the quota with ENOSPC inside the workspace, and the host disk keeps its space', async () => {
    const id = await createRunningWorkspace(server, gitServer.url('app.git'));
    const written = await run(
      id,
      'dd if=/dev/zero of=big bs=1M count=100 2>&1; echo "dd=$?"; stat -c %s big',
    );
    assert.match(written.all, /No space left on device/);
    assert.match(written.stdout, /dd=1\n/);
    const size = Number(written.stdout.trim().split('\n').at(-1));
    assert.ok(size > 16 * MiB && size < 64 * MiB, `the file stopped at the quota (${size} bytes)`);

    const df = await run(id, 'df -k --output=size . | tail -1');
    const totalKiB = Number(df.stdout.trim());
    assert.ok(
      totalKiB > 32 * 1024 && totalKiB <= 64 * 1024,
      `the workspace sees a 64 MiB disk (${totalKiB} KiB)`,
    );

    // On the host, the workspace occupies at most its image, which holds only what was written.
    const image = join(server.dataDir, 'volumes', `${id}.img`);
    const allocated = statSync(image).blocks * 512;
    assert.ok(allocated <= 64 * MiB, `the image takes ${allocated} bytes of the host disk`);
    await run(id, 'rm big');
    assert.ok(statSync(image).blocks * 512 <= 64 * MiB);
  });

  it('keeps the files on the volume through stop, start and a server restart', async () => {
    const id = await createRunningWorkspace(server, gitServer.url('app.git'));
    assert.equal((await run(id, 'echo kept > notes.txt && cat notes.txt')).stdout, 'kept\n');
    const dir = join(server.dataDir, 'workspaces', id);
    assert.ok((await mountPoints()).includes(dir), 'the workspace directory is a mount of its own');

    await server.api(`/api/workspaces/${id}/stop`, { method: 'POST' });
    await waitForStatus(server, id, ['stopped']);
    assert.ok((await mountPoints()).includes(dir), 'a stopped workspace keeps its volume mounted');
    await server.api(`/api/workspaces/${id}/start`, { method: 'POST' });
    await waitForStatus(server, id, ['running']);
    assert.equal((await run(id, 'cat notes.txt')).stdout, 'kept\n');

    client.close();
    await server.restart();
    client = await connectJobs(server);
    await waitForStatus(server, id, ['running']);
    assert.equal(
      (await mountPoints()).filter((point) => point === dir).length,
      1,
      'mounted once after the restart',
    );
    assert.equal((await run(id, 'cat notes.txt')).stdout, 'kept\n');
  });

  it('copies a branch into a volume of its own, held to the same quota', async () => {
    const id = await createRunningWorkspace(server, gitServer.url('app.git'));
    await run(id, 'echo from-source > notes.txt');
    const branched = await server.api<Workspace>(`/api/workspaces/${id}/branch`, {
      method: 'POST',
      body: {},
    });
    assert.equal(branched.status, 201, JSON.stringify(branched.body));
    const branch = branched.body.id;
    const running = await waitForStatus(server, branch, ['running', 'failed']);
    assert.equal(running.status, 'running', JSON.stringify(running));
    assert.ok(
      (await mountPoints()).includes(join(server.dataDir, 'workspaces', branch)),
      'the branch has its own mount',
    );
    assert.equal((await run(branch, 'cat notes.txt')).stdout, 'from-source\n');
    const written = await run(branch, 'dd if=/dev/zero of=big bs=1M count=100 2>&1');
    assert.match(written.all, /No space left on device/);
    assert.equal((await run(id, 'test -e big && echo shared || echo apart')).stdout, 'apart\n');
  });

  it('removes the mount, the loop device and the image when the workspace is deleted', async () => {
    const id = await createRunningWorkspace(server, gitServer.url('app.git'));
    assert.ok(existsSync(join(server.dataDir, 'volumes', `${id}.img`)));
    const deleted = await server.api(`/api/workspaces/${id}`, { method: 'DELETE' });
    assert.ok(deleted.status < 300, JSON.stringify(deleted.body));
    await assertNoVolume(server, id);
  });

  it("unmounts a stopped workspace's volume when the server stops, and keeps a running one's", async () => {
    const stopped = await createRunningWorkspace(server, gitServer.url('app.git'));
    await server.api(`/api/workspaces/${stopped}/stop`, { method: 'POST' });
    await waitForStatus(server, stopped, ['stopped']);
    const running = await createRunningWorkspace(server, gitServer.url('app.git'));
    const under = async () => (await mountPoints()).filter((point) => point.startsWith(`${server.dataDir}/`));
    assert.ok((await under()).length >= 2, 'the workspaces of this suite are mounted');
    client.close();
    await server.nixspace.close();
    // The running workspaces' sandboxes still run over their files; the stopped one's are let go.
    const left = await under();
    assert.ok(left.includes(join(server.dataDir, 'workspaces', running)), 'the running one stays mounted');
    assert.ok(!left.includes(join(server.dataDir, 'workspaces', stopped)), 'the stopped one is unmounted');
    await endSandboxesUnder(server.dataDir);
    await unmountUnder(server.dataDir);
    assert.deepEqual(await under(), []);
    assert.ok(await loopDevicesReleased(server.dataDir), 'no loop device is left');
  });
});

describe('disk quota when a creation fails', () => {
  let gitServer: GitHttpServer;
  let server: TestServer;

  before(async () => {
    gitServer = await startGitHttpServer();
    // Its checkout does not fit in the quota.
    await makeLargeRepo(gitServer.root, 'large.git', 24 * MiB);
    server = await startTestServer({ config: { limits: { disk: 16 * MiB } } });
  });

  after(async () => {
    await server?.close();
    await gitServer?.close();
  });

  it('leaves no mount, loop device or image behind', async () => {
    const created = await server.api<Workspace>('/api/workspaces', {
      method: 'POST',
      body: { repoUrl: gitServer.url('large.git') },
    });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const failed = (await waitForStatus(server, created.body.id, [
      'running',
      'failed',
    ])) as unknown as Workspace;
    assert.equal(failed.status, 'failed');
    assert.equal(failed.error?.step, 'checkout');
    assert.equal(failed.error?.code, 'REPO_TOO_LARGE');
    assert.match(failed.error!.message, /workspace's 16 MiB disk .* has no room for the checkout of large/);
    await assertNoVolume(server, created.body.id);
    assert.deepEqual(readdirSync(join(server.dataDir, 'volumes')), []);
  });
});

describe('without disk quotas (--unsafe-no-disk-quota)', () => {
  let gitServer: GitHttpServer;
  let server: TestServer;

  before(async () => {
    gitServer = await startGitHttpServer();
    await makeRepo(gitServer.root, 'app.git', { files: { 'README.md': '# app\n' } });
    server = await startTestServer({ config: { unsafeNoDiskQuota: true } });
  });

  after(async () => {
    await server?.close();
    await gitServer?.close();
  });

  it('runs workspaces in plain directories on the host disk, and says so', async () => {
    assert.equal(server.nixspace.volumes.quota, false);
    const id = await createRunningWorkspace(server, gitServer.url('app.git'));
    const dir = join(server.dataDir, 'workspaces', id);
    assert.ok(existsSync(join(dir, 'repo', 'README.md')));
    assert.ok(!(await mountPoints()).includes(dir), 'no volume is mounted');
    assert.equal(existsSync(join(server.dataDir, 'volumes')), false, 'no image is made');
    await server.api(`/api/workspaces/${id}`, { method: 'DELETE' });
    assert.equal(existsSync(dir), false);
  });
});
