// A server started with `--sandbox gvisor` runs every workspace in a gVisor box: the workspace
// says so, its terminal and jobs run under the box's kernel as the workspace user, its files are
// the owner's on the host, stop ends the box and start brings the files back, and the box outlives
// a server restart with its shell. Hibernating saves the box with its memory: resuming brings back
// the very processes (a shell with its variables, what it started), a server restart in between too.

import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { findExecutable } from '../../src/runtime/host/find-executable.js';
import { makeRepo } from '../support/git-fixtures.js';
import { type GitHttpServer, startGitHttpServer } from '../support/git-http-server.js';
import { connectJobs, type JobsClient } from '../support/jobs-client.js';
import {
  createRunningWorkspace,
  openShell,
  startTestServer,
  type TerminalClient,
  type TestServer,
  waitForStatus,
} from '../support/nixspace-server.js';

const skip =
  findExecutable('runsc') === undefined
    ? 'runsc (gVisor) is not installed: apt-get install runsc'
    : process.getuid?.() !== 0
      ? 'gVisor boxes need root'
      : false;

describe('workspaces on the gVisor driver', { skip }, () => {
  let git: GitHttpServer;
  let server: TestServer;
  let jobs: JobsClient | undefined;
  let id: string;
  const clients: TerminalClient[] = [];

  before(async () => {
    git = await startGitHttpServer();
    await makeRepo(git.root, 'app.git');
    server = await startTestServer({ config: { sandbox: 'gvisor' } });
    id = await createRunningWorkspace(server, git.url('app.git'));
  });

  after(async () => {
    for (const client of clients) client.close();
    jobs?.close();
    await server?.close();
    await git?.close();
  });

  const terminal = (terminalId?: string) => openShell(server, id, clients, terminalId);

  it('says it runs on gVisor, and its shell runs under the box kernel as the workspace user', async () => {
    const view = await server.api<{ sandbox: { driver: string; isolated: boolean } }>(
      `/api/workspaces/${id}`,
    );
    assert.deepEqual(view.body.sandbox, { driver: 'gvisor', isolated: true });
    const shell = await terminal();
    // gVisor's kernel names itself in the kernel log the box sees, which no host kernel does.
    shell.type(
      'echo "ID=$(id -u)"; dmesg 2>/dev/null | grep -c -i gvisor | sed "s/^/GV=/"; echo made > made-in-box; echo "WR""OTE"\n',
    );
    await shell.waitFor((t) => /ID=\d+/.test(t.output) && t.output.includes('WROTE'));
    assert.match(shell.output, /ID=1000/);
    assert.doesNotMatch(shell.output, /GV=0/);
    const repo = join(server.dataDir, 'workspaces', id, 'repo');
    assert.equal(await readFile(join(repo, 'made-in-box'), 'utf8'), 'made\n');
  });

  it('runs a job in the box to its end with its output', async () => {
    jobs = await connectJobs(server);
    const answer = await jobs.execute({ command: 'echo job-in-box; uname -r', target: id });
    assert.ok(answer.job, `the job started: ${JSON.stringify(answer.error)}`);
    const jobId = answer.job.id;
    await jobs.waitFor(() => jobs!.done.has(jobId), 60_000, 'the job to end');
    assert.equal(jobs.done.get(jobId)?.status, 'succeeded');
    assert.match(jobs.text(jobId, ['stdout']), /job-in-box/);
  });

  it('keeps its shell through a server restart', async () => {
    const first = await terminal();
    const terminalId = String(first.messages[0]!.terminalId);
    first.type('export KEPT=gvisor-$((6*7)); echo "SET=$KEPT"\n');
    // The shell has the variable before the server goes down.
    await first.waitFor((t) => t.output.includes('SET=gvisor-42'), 60_000);
    await server.restart();
    await first.closed;
    const again = await terminal(terminalId);
    assert.equal(again.messages[0]!.terminalId, terminalId, 'the same shell');
    again.type('echo "VAR=$KEPT"\n');
    await again.waitFor((t) => t.output.includes('VAR=gvisor-42'));
  });

  /** Opens a shell that starts a `sleep` and holds a variable; closed again, the shell runs on. */
  async function busyShell(tag: string): Promise<{ terminalId: string; sleepPid: string }> {
    const shell = await terminal();
    shell.type(`export HELD=${tag}-$((6*7)); sleep 3000 & echo "SLEEP=$!"\n`);
    await shell.waitFor((t) => /SLEEP=\d+/.test(t.output));
    const sleepPid = /SLEEP=(\d+)/.exec(shell.output)![1]!;
    shell.close();
    await shell.closed;
    return { terminalId: String(shell.messages[0]!.terminalId), sleepPid };
  }

  async function hibernate(): Promise<void> {
    assert.equal(await server.nixspace.workspaces.hibernate(id, () => true), true);
    const view = await server.api<{ status: string; sandbox: unknown }>(`/api/workspaces/${id}`);
    assert.equal(view.body.status, 'hibernated');
    assert.equal(view.body.sandbox, null, 'no box runs');
    assert.ok(existsSync(imageDir()), 'the box is saved');
  }

  const imageDir = () => join(server.dataDir, 'gvisor', 'images', id);

  /** The shell is the same one: its scrollback, its variable, its `sleep` still running. */
  async function sameShell(terminalId: string, sleepPid: string, tag: string): Promise<void> {
    const again = await terminal(terminalId);
    assert.equal(again.messages[0]!.terminalId, terminalId, 'the same shell');
    await again.waitFor((t) => t.output.includes(`SLEEP=${sleepPid}`));
    again.type(`echo "VAR=$HELD"; kill -0 ${sleepPid} && echo "ALI""VE"\n`);
    await again.waitFor((t) => t.output.includes(`VAR=${tag}-42`) && t.output.includes('ALIVE'));
  }

  it('hibernates with its memory: resuming brings back the shell, its variable and its sleep', async () => {
    const { terminalId, sleepPid } = await busyShell('held');
    await hibernate();
    const resumed = await server.api<{ status: string }>(`/api/workspaces/${id}/resume`, { method: 'POST' });
    assert.equal(resumed.status, 200, JSON.stringify(resumed.body));
    assert.equal(resumed.body.status, 'running');
    await sameShell(terminalId, sleepPid, 'held');
  });

  it('resumes with its memory after a server restart while hibernated', async () => {
    const { terminalId, sleepPid } = await busyShell('restarted');
    await hibernate();
    await server.restart();
    assert.equal((await server.api<{ status: string }>(`/api/workspaces/${id}`)).body.status, 'hibernated');
    // Opening a terminal resumes it.
    await sameShell(terminalId, sleepPid, 'restarted');
    assert.equal((await server.api<{ status: string }>(`/api/workspaces/${id}`)).body.status, 'running');
  });

  it('starts anew from its files when its memory image does not restore', async () => {
    const { terminalId } = await busyShell('broken');
    await hibernate();
    for (const name of await readdir(imageDir())) await writeFile(join(imageDir(), name), 'not an image');
    const resumed = await server.api<{ status: string }>(`/api/workspaces/${id}/resume`, { method: 'POST' });
    assert.equal(resumed.body.status, 'running', JSON.stringify(resumed.body));
    assert.equal(existsSync(imageDir()), false, 'the image is not tried twice');
    const shell = await terminal(terminalId);
    assert.notEqual(shell.messages[0]!.terminalId, terminalId, 'a new shell: the old one is gone');
    shell.type('echo "VAR=[$HELD]"; cat made-in-box | sed "s/^/FILE=/"\n');
    await shell.waitFor((t) => t.output.includes('VAR=[]') && t.output.includes('FILE=made'));
  });

  it('a stop of a hibernated workspace removes its image: it starts anew', async () => {
    await busyShell('stopped');
    await hibernate();
    const stopped = await server.api<{ status: string }>(`/api/workspaces/${id}/stop`, { method: 'POST' });
    assert.equal(stopped.body.status, 'stopped');
    assert.equal(existsSync(imageDir()), false);
    assert.equal(existsSync(join(server.dataDir, 'gvisor', 'boxes', id)), false, 'nor its bundle');
    const started = await server.api<{ status: string }>(`/api/workspaces/${id}/start`, { method: 'POST' });
    assert.equal(started.body.status, 'running', JSON.stringify(started.body));
  });

  it('stops the box and starts a new one over the same files', async () => {
    const stopped = await server.api(`/api/workspaces/${id}/stop`, { method: 'POST' });
    assert.equal(stopped.status, 200);
    await waitForStatus(server, id, ['stopped']);
    const started = await server.api(`/api/workspaces/${id}/start`, { method: 'POST' });
    assert.equal(started.status, 200);
    await waitForStatus(server, id, ['running']);
    const shell = await terminal();
    shell.type('cat made-in-box | sed "s/^/AGAIN=/"\n');
    await shell.waitFor((t) => t.output.includes('AGAIN=made'));
  });

  it('a delete of a hibernated workspace removes its image', async () => {
    await busyShell('deleted');
    await hibernate();
    const deleted = await server.api(`/api/workspaces/${id}`, { method: 'DELETE' });
    assert.ok(deleted.status < 300, `deleted: ${deleted.status}`);
    assert.equal(existsSync(imageDir()), false);
    assert.equal(existsSync(join(server.dataDir, 'gvisor', 'boxes', id)), false, 'nor its bundle');
  });
});
