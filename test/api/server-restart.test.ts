// A running workspace outlives its server: the shell a tab had open keeps its process, its
// variables and its scrollback through a restart, and the tab reattaches to the very same shell.
// Stop and delete still end the sandbox; one whose workspace is gone is ended at the next start.

import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { readBoxRecord } from '../../src/runtime/drivers/bubblewrap/box-record.js';
import { pidNamespaceOf } from '../../src/runtime/host/host-processes.js';
import { updateWorkspace } from '../../src/store/workspace-queries.js';
import type { Job, JobPage } from '../../src/wire/jobs.js';
import { makeRepo } from '../support/git-fixtures.js';
import { type GitHttpServer, startGitHttpServer } from '../support/git-http-server.js';
import {
  createRunningWorkspace,
  openShell,
  startTestServer,
  type TerminalClient,
  type TestServer,
  waitForStatus,
} from '../support/nixspace-server.js';

describe('a server restart under a running workspace', () => {
  let git: GitHttpServer;
  let server: TestServer;
  let id: string;
  const clients: TerminalClient[] = [];

  before(async () => {
    git = await startGitHttpServer();
    await makeRepo(git.root, 'app.git');
    await makeRepo(git.root, 'cache.git', {
      files: { 'docker-compose.yml': 'services:\n  cache:\n    image: redis:7\n' },
    });
    server = await startTestServer();
    id = await createRunningWorkspace(server, git.url('app.git'));
  });

  after(async () => {
    for (const client of clients) client.close();
    await server?.close();
    await git?.close();
  });

  const agentDir = (workspace: string) => join(server.dataDir, 'run', 'agents', workspace);

  const terminal = (terminalId?: string) => openShell(server, id, clients, terminalId);

  it('keeps the shell, its process, its variables and its scrollback; the tab reattaches to it', async () => {
    const first = await terminal();
    const terminalId = String(first.messages[0]!.terminalId);
    first.type('export MYVAR=kept-$((6*7)); sleep 100000 & echo "SLEEPER=$!"\n');
    await first.waitFor((t) => /SLEEPER=\d+/.test(t.output));
    const sleeper = /SLEEPER=(\d+)/.exec(first.output)![1];
    const before = await readBoxRecord(agentDir(id));
    assert.ok(before, 'the sandbox is recorded for the next server');

    await server.restart();
    await first.closed;

    const after = await readBoxRecord(agentDir(id));
    assert.deepEqual(after, before, 'the same sandbox, not a new one');
    assert.equal(await pidNamespaceOf(after!.pid), after!.pidNamespace);
    const again = await terminal(terminalId);
    assert.equal(again.messages[0]!.terminalId, terminalId, 'the same shell');
    assert.equal(again.messages[0]!.replayed, true);
    await again.waitFor((t) => t.output.includes(`SLEEPER=${sleeper}`));
    again.type(
      'echo "VAR=$MYVAR"; kill -0 $SLEEPER_PID 2>/dev/null; jobs -p\n'.replace('$SLEEPER_PID', sleeper!),
    );
    await again.waitFor((t) => t.output.includes('VAR=kept-42'));
    await again.waitFor((t) => t.output.split('VAR=kept-42')[1]!.includes(sleeper!));
    const view = await server.api<{ status: string }>(`/api/workspaces/${id}`);
    assert.equal(view.body.status, 'running');
  });

  async function jobOutput(jobId: string): Promise<{ status: string; stdout: string; system: string }> {
    for (;;) {
      const { body } = await server.api<JobPage>(`/api/jobs/${jobId}`);
      if (body.job.status !== 'running' && body.complete) {
        const text = (stream: string) =>
          body.events
            .filter((e) => e.stream === stream)
            .map((e) => e.chunk)
            .join('');
        return { status: body.job.status, stdout: text('stdout'), system: text('system') };
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  for (const strategy of ['stream', 'terminal'] as const) {
    it(`keeps a ${strategy} job running, and its output comes whole: every line once, none lost`, async () => {
      const lines = 30;
      const started = await server.api<Job>('/api/jobs', {
        method: 'POST',
        body: {
          command: `for i in $(seq 1 ${lines}); do echo "line $i"; sleep 0.1; done`,
          target: id,
          strategy,
        },
      });
      assert.equal(started.status, 201, JSON.stringify(started.body));
      const jobId = started.body.id;
      // Wait until some lines are in, then restart while it prints.
      for (;;) {
        const { body } = await server.api<JobPage>(`/api/jobs/${jobId}`);
        if (body.events.some((e) => e.chunk.includes('line 3'))) break;
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      await server.restart();
      const done = await jobOutput(jobId);
      assert.equal(done.status, 'succeeded', done.system);
      const expected = Array.from({ length: lines }, (_, i) => `line ${i + 1}`);
      assert.deepEqual(done.stdout.replace(/\r\n/g, '\n').trim().split('\n'), expected);
      assert.match(done.system, /ran on/);
    });
  }

  it('keeps a service running: the same server, with what it holds only in memory', async () => {
    const cache = await createRunningWorkspace(server, git.url('cache.git'));
    const run = async (command: string) => {
      const started = await server.api<Job>('/api/jobs', {
        method: 'POST',
        body: { command, target: cache },
      });
      assert.equal(started.status, 201, JSON.stringify(started.body));
      const done = await jobOutput(started.body.id);
      assert.equal(done.status, 'succeeded', `${command}: ${done.stdout}${done.system}`);
      return done.stdout.trim();
    };
    const pid = async () => /process_id:(\d+)/.exec(await run('redis-cli -u "$REDIS_URL" info server'))?.[1];
    await run(
      'redis-cli -u "$REDIS_URL" config set appendonly no && redis-cli -u "$REDIS_URL" set only-in-memory yes',
    );
    const before = await pid();
    assert.ok(before);
    await server.restart();
    assert.equal(await pid(), before, 'the same redis');
    assert.equal(await run('redis-cli -u "$REDIS_URL" get only-in-memory'), 'yes');
  });

  it('ends a sandbox at start whose workspace is gone, and stop still stops', async () => {
    const other = await createRunningWorkspace(server, git.url('app.git'));
    const record = await readBoxRecord(agentDir(other));
    assert.ok(record);
    // The workspace is gone by the time the next server starts (its row says deleted, as after
    // a delete cut off by a crash): its sandbox must not run on.
    await updateWorkspace(server.nixspace.store.db, other, { status: 'deleted' });
    await server.restart();
    assert.notEqual(await pidNamespaceOf(record.pid), record.pidNamespace, 'the orphan sandbox was ended');

    const kept = await readBoxRecord(agentDir(id));
    assert.ok(kept && (await pidNamespaceOf(kept.pid)) === kept.pidNamespace, 'the running one runs on');
    const stopped = await server.api(`/api/workspaces/${id}/stop`, { method: 'POST' });
    assert.ok(stopped.status < 300, JSON.stringify(stopped.body));
    await waitForStatus(server, id, ['stopped']);
    assert.notEqual(await pidNamespaceOf(kept.pid), kept.pidNamespace, 'stop ended the sandbox');
  });
});
