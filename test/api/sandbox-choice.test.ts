// A workspace is made on any sandbox driver the server has (issue 12): the server lists its
// drivers, a create (or a branch) may ask for one, the workspace says which it runs on and stays
// on it through a restart of the server, and a driver the server lacks is refused before anything
// is made. The server here defaults to bubblewrap and also has gVisor (Debian's runsc), and QEMU
// microVMs where the host has them.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { skipReason as gvisorSkipReason } from '../../src/runtime/drivers/gvisor/gvisor-test-kit.js';
import { MicrovmHost } from '../../src/runtime/drivers/microvm/microvm-host.js';
import type { SandboxDriverList, Workspace } from '../../src/wire/workspaces.js';
import { makeRepo } from '../support/git-fixtures.js';
import { type GitHttpServer, startGitHttpServer } from '../support/git-http-server.js';
import {
  openShell,
  startTestServer,
  type TerminalClient,
  type TestServer,
  waitForStatus,
} from '../support/nixspace-server.js';

describe('choosing the sandbox driver of a workspace', { skip: gvisorSkipReason }, () => {
  let git: GitHttpServer;
  let server: TestServer;
  const clients: TerminalClient[] = [];

  before(async () => {
    git = await startGitHttpServer();
    await makeRepo(git.root, 'app.git');
    server = await startTestServer();
  });

  after(async () => {
    for (const client of clients) client.close();
    await server?.close();
    await git?.close();
  });

  async function create(body: Record<string, unknown>): Promise<Workspace> {
    const created = await server.api<Workspace>('/api/workspaces', {
      method: 'POST',
      body: { repoUrl: git.url('app.git'), ...body },
    });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    return (await waitForStatus(
      server,
      created.body.id,
      ['running', 'failed'],
      120_000,
    )) as unknown as Workspace;
  }

  /** The kernel the workspace's shell sees: gVisor names itself in the box's kernel log. */
  async function kernelOf(id: string, terminalId?: string): Promise<'gvisor' | 'host'> {
    const shell = await openShell(server, id, clients, terminalId);
    shell.type('dmesg 2>/dev/null | grep -c -i gvisor | sed "s/^/GV=/"\n');
    await shell.waitFor((t) => /GV=\d+/.test(t.output), 30_000);
    return /GV=0/.test(shell.output) ? 'host' : 'gvisor';
  }

  it('lists the drivers it has, its default first', async () => {
    const { status, body } = await server.api<SandboxDriverList>('/api/sandboxes');
    assert.equal(status, 200);
    assert.equal(body.default, 'bubblewrap');
    // And a microVM where this host has QEMU and a kernel for it.
    const microvm = await new MicrovmHost({ stateRoot: '/nonexistent' }).probe().then(
      () => [['microvm', true]],
      () => [],
    );
    assert.deepEqual(
      body.drivers.map((driver) => [driver.name, driver.isolated]),
      [['bubblewrap', true], ['gvisor', true], ...microvm],
    );
    assert.ok(body.drivers.every((driver) => driver.description.length > 0));
  });

  it('refuses a driver it does not have, naming those it has, and makes nothing', async () => {
    const before = (await server.api<{ workspaces: Workspace[] }>('/api/workspaces')).body.workspaces.length;
    const refused = await server.api<{ code: string; message: string }>('/api/workspaces', {
      method: 'POST',
      body: { repoUrl: git.url('app.git'), sandbox: 'firecracker' },
    });
    assert.equal(refused.status, 400);
    assert.match(
      refused.body.message,
      /cannot run a workspace on "firecracker": it has bubblewrap, gvisor\b/,
    );
    const after = (await server.api<{ workspaces: Workspace[] }>('/api/workspaces')).body.workspaces.length;
    assert.equal(after, before);
  });

  it('runs two workspaces side by side, each on the driver it asked for, also after a server restart', async () => {
    const onGvisor = await create({ sandbox: 'gvisor' });
    const onDefault = await create({});
    assert.equal(onGvisor.status, 'running', JSON.stringify(onGvisor.error));
    assert.equal(onDefault.status, 'running', JSON.stringify(onDefault.error));
    assert.deepEqual(onGvisor.sandbox, { driver: 'gvisor', isolated: true });
    assert.deepEqual(onDefault.sandbox, { driver: 'bubblewrap', isolated: true });
    assert.equal(await kernelOf(onGvisor.id), 'gvisor');
    assert.equal(await kernelOf(onDefault.id), 'host');

    // Each is taken back on its own driver, with its shell.
    const shell = await openShell(server, onGvisor.id, clients);
    const terminalId = String(shell.messages[0]!.terminalId);
    shell.type('export KEPT=on-$((6*7)); echo "SET=$KEPT"\n');
    // The shell has the variable before the server goes down.
    await shell.waitFor((t) => t.output.includes('SET=on-42'), 60_000);
    await server.restart();
    const again = await openShell(server, onGvisor.id, clients, terminalId);
    assert.equal(again.messages[0]!.terminalId, terminalId, 'the same shell');
    again.type('echo "VAR=$KEPT"\n');
    await again.waitFor((t) => t.output.includes('VAR=on-42'), 30_000);
    const views = await Promise.all(
      [onGvisor.id, onDefault.id].map(
        async (id) => (await server.api<Workspace>(`/api/workspaces/${id}`)).body,
      ),
    );
    assert.deepEqual(
      views.map((view) => [view.status, view.sandbox?.driver]),
      [
        ['running', 'gvisor'],
        ['running', 'bubblewrap'],
      ],
    );

    // Stopped and started, it comes back on its own driver.
    assert.equal((await server.api(`/api/workspaces/${onGvisor.id}/stop`, { method: 'POST' })).status, 200);
    const started = await server.api<Workspace>(`/api/workspaces/${onGvisor.id}/start`, { method: 'POST' });
    assert.equal(started.body.sandbox?.driver, 'gvisor');

    // A branch runs where its source runs, unless it asks for another.
    const branched = await server.api<Workspace>(`/api/workspaces/${onGvisor.id}/branch`, {
      method: 'POST',
      body: {},
    });
    assert.equal(branched.status, 201, JSON.stringify(branched.body));
    const branch = (await waitForStatus(
      server,
      branched.body.id,
      ['running', 'failed'],
      120_000,
    )) as unknown as Workspace;
    assert.equal(branch.sandbox?.driver, 'gvisor', JSON.stringify(branch.error));
    const moved = await server.api<Workspace>(`/api/workspaces/${onGvisor.id}/branch`, {
      method: 'POST',
      body: { sandbox: 'bubblewrap' },
    });
    assert.equal(moved.status, 201, JSON.stringify(moved.body));
    const elsewhere = (await waitForStatus(
      server,
      moved.body.id,
      ['running', 'failed'],
      120_000,
    )) as unknown as Workspace;
    assert.equal(elsewhere.sandbox?.driver, 'bubblewrap', JSON.stringify(elsewhere.error));
  });
});
