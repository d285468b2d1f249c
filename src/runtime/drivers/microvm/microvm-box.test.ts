// MicroVM boxes, with real QEMU under TCG: the agent's stream, ownership and isolation of the
// shares, surviving the process that booted the box, hibernation, and stop leaving nothing.
// TCG is slow and the machine shared, so every wait is for a condition, with generous limits.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { type AddressInfo, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { detectCgroupHost } from '../../cgroups/cgroup-host.js';
import { TEST_SANDBOX_USER } from '../../test-sandbox-user.js';
import type { MicrovmBox } from './microvm-box.js';
import { MicrovmHost } from './microvm-host.js';
import type { MicrovmSpec } from './microvm-spec.js';
import { AgentListener, boxQemuPids, killBoxQemu, prepareEchoBox } from './microvm-test-fixtures.js';
import { microvmSkipReason } from './microvm-test-kit.js';
import { waitFor } from './wait-for.js';

const user = TEST_SANDBOX_USER;
const mib = 1024 * 1024;

const skip = await microvmSkipReason({ needsRoot: false });

describe('microVM boxes', { skip }, () => {
  let root: string;
  let host: MicrovmHost;
  const ids: string[] = [];

  /** A fresh workspace with the stand-in agent in it, an agent socket and a spec for both. */
  async function prepare(name: string, extra: Partial<MicrovmSpec> = {}) {
    const prepared = await prepareEchoBox(root, name, user, {
      limits: { memoryBytes: 256 * mib, cpus: 1, pids: 200 },
      hostname: 'box',
      ...extra,
    });
    ids.push(prepared.spec.id);
    return prepared;
  }

  /** The agent's connection, or a failure that shows what the guest printed. */
  async function agentOf(box: MicrovmBox, listener: AgentListener) {
    return listener
      .agent()
      .catch(async (error: Error) =>
        assert.fail(`${error.message}; the guest printed: ${await box.consoleText()}`),
      );
  }

  async function assertGone(box: MicrovmBox, pid: number | undefined): Promise<void> {
    assert.equal(await box.state(), 'stopped');
    // QEMU is not this process's child when another one booted it: the host's init reaps it.
    if (pid !== undefined) {
      await waitFor(async () => !existsSync(`/proc/${pid}`), {
        timeoutMs: 10_000,
        what: `QEMU ${pid} to be gone`,
      });
    }
    assert.deepEqual(await boxQemuPids(box.id), []);
    assert.equal(existsSync(box.paths.boxDir), false, 'the box state directory is left');
    assert.equal(detectCgroupHost().group(`microvm-${box.id}`).exists(), false, 'the box cgroup is left');
  }

  before(async () => {
    // A short root: QEMU's monitor socket path must fit a Unix socket address.
    root = await mkdtemp(join(tmpdir(), 'nsvm-'));
    // Searchable, not listable: QEMU, as the box's user, must reach the workspaces and sockets.
    await chmod(root, 0o711);
    host = new MicrovmHost({ stateRoot: join(root, 'state') });
  });

  after(async () => {
    for (const id of ids) {
      await (await host.find(id))?.stop();
      await killBoxQemu(id);
    }
    await rm(root, { recursive: true, force: true });
  });

  describe('a running box', () => {
    let box: MicrovmBox;
    let listener: AgentListener;
    let spec: MicrovmSpec;
    const secret = () => join(root, 'not-shared');

    before(async () => {
      await mkdir(secret());
      await writeFile(join(secret(), 'key'), 'host secret');
      ({ spec, listener } = await prepare('run'));
      box = await host.boot(spec);
    });

    after(async () => {
      const pid = box?.pid;
      await box?.stop();
      await listener?.close();
      if (box) await assertGone(box, pid);
    });

    it('runs the init as the workspace user, connected to the host socket, and echoes bytes', async () => {
      const agent = await agentOf(box, listener);
      const hello = await agent.line(/^hello /);
      assert.match(hello, /uid=1000 gid=1000 /);
      assert.match(hello, /transport=serial:\/dev\/virtio-ports\/nixspace\.agent /);
      assert.match(hello, new RegExp(`cwd=${spec.workspaceDir}$`));
      const word = `ping-${randomBytes(8).toString('hex')}`;
      assert.equal(await agent.ask(word), word);
    });

    it('writes the shared workspace as spec.user on the host', async () => {
      await listener.agent();
      const file = await stat(join(spec.workspaceDir, 'written-by-guest.txt'));
      assert.equal(file.uid, user.uid);
      assert.equal(file.gid, user.gid);
    });

    it('shows the guest no host path that was not shared, and /usr only read-only', async () => {
      const agent = await listener.agent();
      assert.equal(await agent.ask(`stat ${secret()}`), `stat ${secret()} absent`);
      assert.equal(await agent.ask(`stat ${join(root, 'state')}`), `stat ${join(root, 'state')} absent`);
      assert.equal(await agent.ask('stat /usr/bin/node'), 'stat /usr/bin/node present');
      assert.match(
        await agent.ask('write /usr/nixspace-probe'),
        /^write \/usr\/nixspace-probe (EROFS|EACCES)$/,
      );
      assert.equal(existsSync('/usr/nixspace-probe'), false);
      const outside = join(root, spec.id, 'sock', 'x');
      assert.match(await agent.ask(`write ${outside}`), /ENOENT$/);
    });

    it('sizes the guest from the limits and holds its processes to limits.pids', async () => {
      const agent = await agentOf(box, listener);
      const memTotal = /MemTotal:\s+(\d+) kB/.exec(await agent.ask('read /proc/meminfo'));
      assert.ok(memTotal && Number(memTotal[1]) * 1024 <= 256 * mib, `guest memory: ${memTotal?.[0]}`);
      assert.equal(
        await agent.ask('read /sys/fs/cgroup/workspace/pids.max'),
        'read /sys/fs/cgroup/workspace/pids.max 200',
      );
      assert.equal(await agent.ask('read /proc/self/cgroup'), 'read /proc/self/cgroup 0::/workspace');
    });

    it('has no network with network none', async () => {
      const agent = await agentOf(box, listener);
      assert.match(
        await agent.ask('connect 10.0.2.2:22'),
        /^connect 10\.0\.2\.2:22 (ENETUNREACH|EHOSTUNREACH)$/,
      );
    });

    it('goes on over a new connection when the server listens again after closing its socket', async () => {
      await agentOf(box, listener);
      await listener.close();
      // QEMU reconnects every second; meanwhile the agent's reads return EOF on the same port.
      listener = await AgentListener.listen(spec.agentSocket, user);
      const fresh = await listener.current(60_000);
      const word = `again-${randomBytes(8).toString('hex')}`;
      assert.equal(await fresh.ask(word), word);
    });

    it('refuses to hibernate while 9p shares are mounted, naming why, and keeps running', async () => {
      const agent = await listener.current();
      await assert.rejects(box.hibernate(), /cannot hibernate: .*VirtFS/);
      assert.equal(await box.state(), 'running');
      assert.equal(await agent.ask('still-there'), 'still-there');
    });
  });

  it('outlives the Node process that booted it and is found again by id', async () => {
    const { spec, listener } = await prepare('detach');
    try {
      const fixture = new URL('./microvm-detach-fixture.ts', import.meta.url).pathname;
      const { stdout } = await promisify(execFile)(
        process.execPath,
        ['--import', 'tsx', fixture, JSON.stringify(spec), join(root, 'state')],
        { timeout: 120_000 },
      );
      const { pid } = JSON.parse(stdout) as { pid: number };
      const box = await host.find(spec.id);
      assert.ok(box, 'the box is not found by its id');
      assert.equal(box.pid, pid);
      assert.equal(await box.state(), 'running');
      const agent = await agentOf(box, listener);
      assert.equal(await agent.ask('after-the-restart'), 'after-the-restart');
      await box.stop();
      await assertGone(box, pid);
      assert.equal(await host.find(spec.id), undefined);
    } finally {
      await listener.close();
    }
  });

  it('reaches the host through user-mode networking with network host', async () => {
    const server = createServer((socket) => socket.end());
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    const { spec, listener } = await prepare('net', { network: 'host' });
    let box: MicrovmBox | undefined;
    try {
      box = await host.boot(spec);
      const agent = await agentOf(box, listener);
      // 10.0.2.2 is the host's loopback as QEMU's user-mode network shows it to the guest.
      assert.equal(await agent.ask(`connect 10.0.2.2:${port}`), `connect 10.0.2.2:${port} ok`);
    } finally {
      await box?.stop();
      await listener.close();
      server.close();
    }
  });

  it('hibernates to a file and resumes with a process inside keeping its state', async () => {
    // Only a guest with no 9p share mounted can be saved by QEMU 7.2 (see box-hibernation.ts).
    const counter =
      'i=0; while true; do i=$((i+1)); echo "count $i" > /dev/virtio-ports/nixspace.agent; sleep 0.2; done';
    const { spec, listener } = await prepare('hibernate', {
      mountShares: false,
      init: ['/.nixspace/bin/busybox', 'sh', '-c', counter],
    });
    let box: MicrovmBox | undefined;
    try {
      box = await host.boot(spec);
      const counts = () =>
        listener.connections
          .flatMap((c) => c.lines)
          .map((line) => Number(/^count (\d+)$/.exec(line)?.[1] ?? 0));
      const latest = () => Math.max(0, ...counts());
      const booted = box;
      await waitFor(async () => latest() >= 5, { timeoutMs: 120_000, what: 'the counter to reach 5' }).catch(
        async (error: Error) => assert.fail(`${error.message}; console: ${await booted.consoleText()}`),
      );
      const report = await box.hibernate();
      assert.equal(await box.state(), 'hibernated');
      const saved = latest();
      assert.ok(
        report.imageBytes > 0 && report.imageBytes < 300 * mib,
        `image of ${report.imageBytes} bytes`,
      );
      assert.equal((await host.find(spec.id)) !== undefined, true, 'a hibernated box is found by id');

      const resumed = await box.resume();
      assert.ok(resumed.restoreMs > 0);
      assert.equal(await box.state(), 'running');
      await waitFor(async () => latest() > saved, { timeoutMs: 120_000, what: 'the counter to go on' });
      const next = Math.min(...counts().filter((count) => count > saved));
      assert.ok(next <= saved + 2, `the counter restarted or jumped: ${saved} then ${next}`);
      assert.equal(existsSync(box.paths.hibernation), false, 'the used image is left');
    } finally {
      const pid = box?.pid;
      await box?.stop();
      await listener.close();
      if (box) await assertGone(box, pid);
    }
  });
});
