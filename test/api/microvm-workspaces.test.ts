// A server started with `--sandbox microvm` runs every workspace in a QEMU microVM: the workspace
// says so, its terminal and jobs run under the guest's own kernel as the workspace user, its files
// are the owner's on the host, stop ends the VM and start brings the files back, and the VM
// outlives a server restart with its shell. Each box boots a kernel under TCG: every wait is long.

import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { microvmSkipReason } from '../../src/runtime/drivers/microvm/microvm-test-kit.js';
import { makeRepo } from '../support/git-fixtures.js';
import { type GitHttpServer, startGitHttpServer } from '../support/git-http-server.js';
import { connectJobs, type JobsClient } from '../support/jobs-client.js';
import {
  createAndWaitRunning,
  openShell,
  startTestServer,
  type TerminalClient,
  type TestServer,
  waitForStatus,
} from '../support/nixspace-server.js';

const skip = await microvmSkipReason();
/** A box boots a kernel under TCG, then Node from 9p, on a shared machine. */
const bootMs = 600_000;

describe('workspaces on the microVM driver', { skip }, () => {
  let git: GitHttpServer;
  let server: TestServer;
  let jobs: JobsClient | undefined;
  let id: string;
  const clients: TerminalClient[] = [];

  before(async () => {
    git = await startGitHttpServer();
    await makeRepo(git.root, 'app.git');
    server = await startTestServer({ config: { sandbox: 'microvm' } });
    id = (await createAndWaitRunning<{ id: string }>(server, git.url('app.git'), bootMs)).id;
  });

  after(async () => {
    for (const client of clients) client.close();
    jobs?.close();
    await server?.close();
    await git?.close();
  });

  const terminal = (terminalId?: string) => openShell(server, id, clients, terminalId);

  it('says it runs on microvm, and its shell runs under the guest kernel as the workspace user', async () => {
    const view = await server.api<{ sandbox: { driver: string; isolated: boolean } }>(
      `/api/workspaces/${id}`,
    );
    assert.deepEqual(view.body.sandbox, { driver: 'microvm', isolated: true });
    const shell = await terminal();
    // The guest kernel's command line is the box's (no PCI, the serial console), not the host's.
    shell.type(
      'echo "ID=$(id -u)"; grep -c "pci=off" /proc/cmdline | sed "s/^/VM=/"; echo made > made-in-box; echo "WR""OTE"\n',
    );
    await shell.waitFor((t) => /ID=\d+/.test(t.output) && t.output.includes('WROTE'), 60_000);
    assert.match(shell.output, /ID=1000/);
    assert.match(shell.output, /VM=1/);
    const repo = join(server.dataDir, 'workspaces', id, 'repo');
    assert.equal(await readFile(join(repo, 'made-in-box'), 'utf8'), 'made\n');
  });

  it('runs a job in the box to its end and keeps its log', async () => {
    jobs = await connectJobs(server);
    const answer = await jobs.execute({
      command: 'echo job-in-box; grep -c pci=off /proc/cmdline',
      target: id,
    });
    assert.ok(answer.job, `the job started: ${JSON.stringify(answer.error)}`);
    const jobId = answer.job.id;
    await jobs.waitFor(() => jobs!.done.has(jobId), bootMs, 'the job to end');
    assert.equal(jobs.done.get(jobId)?.status, 'succeeded');
    assert.match(jobs.text(jobId, ['stdout']), /job-in-box\n1/);
  });

  it('keeps its shell through a server restart', async () => {
    const first = await terminal();
    const terminalId = String(first.messages[0]!.terminalId);
    first.type('export KEPT=microvm-$((6*7)); echo "SET=$KEPT"\n');
    // The shell has the variable before the server goes down.
    await first.waitFor((t) => t.output.includes('SET=microvm-42'), 60_000);
    await server.restart();
    await first.closed;
    const again = await terminal(terminalId);
    assert.equal(again.messages[0]!.terminalId, terminalId, 'the same shell');
    again.type('echo "VAR=$KEPT"\n');
    await again.waitFor((t) => t.output.includes('VAR=microvm-42'), 60_000);
  });

  it('stops the box and starts a new one over the same files', async () => {
    const stopped = await server.api(`/api/workspaces/${id}/stop`, { method: 'POST' });
    assert.equal(stopped.status, 200);
    await waitForStatus(server, id, ['stopped'], bootMs);
    const started = await server.api(`/api/workspaces/${id}/start`, { method: 'POST' });
    assert.equal(started.status, 200);
    await waitForStatus(server, id, ['running'], bootMs);
    const shell = await terminal();
    shell.type('cat made-in-box | sed "s/^/AGAIN=/"\n');
    await shell.waitFor((t) => t.output.includes('AGAIN=made'), 60_000);
  });
});
