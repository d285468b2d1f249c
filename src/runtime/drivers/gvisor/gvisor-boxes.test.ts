import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { TEST_SANDBOX_USER } from '../../test-sandbox-user.js';
import { bundleDir } from './box-bundle.js';
import { boxHostPids, runningBoxCgroups } from './box-leftovers.js';
import { GvisorBoxes } from './gvisor-boxes.js';
import {
  AgentListener,
  echoAgent,
  makeTestKit,
  roundTrip,
  skipReason,
  type TestKit,
  waitForFile,
} from './gvisor-test-kit.js';

const exec = promisify(execFile);
const sleepForever = ['sleep', '100000'];

describe('gVisor boxes', { skip: skipReason }, () => {
  let kit: TestKit;
  before(async () => {
    kit = await makeTestKit('boxes');
  });
  after(() => kit?.teardown());

  test('the init connects to the host socket the server listens on, echoes, and connects again when the server listens anew', async () => {
    const spec = await kit.spec(echoAgent);
    let listener = await AgentListener.listen(spec);
    const box = await kit.boxes.start(spec);
    assert.equal(box.state, 'running');
    assert.equal(await roundTrip(await listener.next(), 'hello box\n'), 'hello box\n');
    // A restarted server: the old socket goes, a new one is bound at the same path.
    await listener.close();
    listener = await AgentListener.listen(spec);
    const again = await listener.next();
    assert.equal(await roundTrip(again, 'again\n'), 'again\n');
    again.destroy();
    await listener.close();
    await box.stop();
  });

  test('the box keeps running after the process that started it exits, and is found again by id', async () => {
    const spec = await kit.spec(sleepForever);
    const child = new URL('./gvisor-start-child.ts', import.meta.url).pathname;
    const { stdout } = await exec(
      process.execPath,
      ['--import', 'tsx', child, JSON.stringify({ stateDir: kit.boxes.stateDir, spec })],
      { timeout: 60_000 },
    );
    const { pid } = JSON.parse(stdout) as { pid: number };
    // A new server process: its own GvisorBoxes over the same state directory.
    const boxes = new GvisorBoxes({ stateDir: kit.boxes.stateDir });
    const found = await boxes.find(spec.id);
    assert.ok(found, 'the box is found by id');
    assert.equal(found.state, 'running');
    assert.equal(found.pid, pid);
    process.kill(pid, 0);
    assert.ok((await boxes.list()).some((box) => box.id === spec.id));
    // Destroyed by id alone, with no handle from its start.
    await boxes.destroy(spec.id);
    assert.equal(await boxes.find(spec.id), undefined);
    assert.deepEqual(await boxHostPids(bundleDir(kit.boxes.stateDir, spec.id)), []);
  });

  test('the box sees neither /root, the host secrets nor the hidden path; it sees its workspace', async () => {
    const spec = await kit.spec([]);
    const secret = join(kit.root, 'secret.txt');
    await writeFile(secret, 'host secret\n');
    const report = join(spec.workspaceDir, 'report.json');
    const script = `
import json, os
def probe(path):
    try:
        if os.path.isdir(path):
            return {"entries": os.listdir(path)}
        with open(path) as f:
            return {"content": f.read()}
    except OSError as e:
        return {"error": e.strerror}
paths = ["/root", "/etc/shadow", "/etc/ssh/ssh_host_ed25519_key", ${JSON.stringify(kit.root)},
         ${JSON.stringify(secret)}, "/etc/passwd"]
out = {p: probe(p) for p in paths}
out["uid"] = [os.getuid(), os.getgid()]
out["hostname"] = os.uname().nodename
with open(${JSON.stringify(report)}, "w") as f:
    json.dump(out, f)
# Stays up: a box whose init has already ended reads as not started on a busy machine.
import time
time.sleep(100000)
`;
    const box = await kit.boxes.start({ ...spec, init: ['python3', '-c', script], hostname: 'box-host' });
    const seen = JSON.parse(await waitForFile(report)) as Record<string, Record<string, unknown>>;
    assert.deepEqual(seen['/root'], { error: 'No such file or directory' });
    assert.deepEqual(seen['/etc/shadow'], { content: '' });
    assert.deepEqual(seen['/etc/ssh/ssh_host_ed25519_key'], { error: 'No such file or directory' });
    assert.deepEqual(seen[kit.root], { entries: ['workspaces'] }, 'the hidden path shows only the workspace');
    assert.deepEqual(seen[secret], { error: 'No such file or directory' });
    assert.match(String(seen['/etc/passwd']?.content), /^dev:x:1000:1000:/m);
    assert.doesNotMatch(String(seen['/etc/passwd']?.content), /^(?!root|dev|nobody)\w+:/m);
    assert.deepEqual(seen.uid, [1000, 1000]);
    assert.equal(seen.hostname, 'box-host');
    await box.stop();
  });

  test('files the init writes in the workspace are the spec user’s on the host', async () => {
    const spec = await kit.spec([]);
    const script = 'mkdir -p "$W/dir" && echo hi > "$W/dir/file" && id -u > "$W/uid" && exec sleep 100000';
    const box = await kit.boxes.start({ ...spec, init: ['sh', '-c', script], env: { W: spec.workspaceDir } });
    assert.equal((await waitForFile(join(spec.workspaceDir, 'uid'), (t) => t.endsWith('\n'))).trim(), '1000');
    for (const path of ['dir', 'dir/file', 'uid']) {
      const info = await stat(join(spec.workspaceDir, path));
      assert.deepEqual([info.uid, info.gid], [TEST_SANDBOX_USER.uid, TEST_SANDBOX_USER.gid], path);
    }
    await box.stop();
  });

  test('the pids limit refuses a fork beyond it, gracefully: the box keeps running', async () => {
    const spec = await kit.spec([]);
    const out = join(spec.workspaceDir, 'forks');
    const script = `
import os, time
n = 0
for _ in range(100):
    try:
        pid = os.fork()
    except OSError:
        break
    if pid == 0:
        time.sleep(100000)
        os._exit(0)
    n += 1
open(${JSON.stringify(out)}, "w").write(str(n))
time.sleep(100000)
`;
    const box = await kit.boxes.start({ ...spec, init: ['python3', '-c', script], limits: { pids: 16 } });
    const forks = Number(await waitForFile(out, (t) => t !== '', 60_000));
    assert.ok(forks < 16 && forks >= 8, `${forks} forks under a limit of 16 processes`);
    assert.equal(await box.status(), 'running');
    await box.stop();
  });

  test('the memory limit holds: the box reports it, and going past it kills the box', async () => {
    const spec = await kit.spec([]);
    const out = join(spec.workspaceDir, 'memory');
    const limit = 192 * 1024 * 1024;
    const script = `
import time
out = open(${JSON.stringify(out)}, "w", buffering=1)
out.write(open("/proc/meminfo").readline())
time.sleep(0.5)
chunks = []
for i in range(1, 41):
    chunks.append(bytearray(16 * 1024 * 1024))
    out.write(f"{i * 16}\\n")
out.write("survived\\n")
time.sleep(100000)
`;
    const box = await kit.boxes.start({
      ...spec,
      init: ['python3', '-c', script],
      limits: { memoryBytes: limit },
    });
    const meminfo = await waitForFile(out, (t) => t.includes('\n'));
    assert.match(meminfo, new RegExp(`^MemTotal:\\s+${limit / 1024} kB`));
    const deadline = Date.now() + 30_000;
    while ((await box.status()) === 'running' && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 100));
    assert.notEqual(await box.status(), 'running', 'the box was killed');
    const written = (await readFile(out, 'utf8')).trim().split('\n');
    assert.ok(!written.includes('survived'), 'allocating 640 MiB under a 192 MiB limit never succeeds');
    assert.ok(Number(written.at(-1)) <= 192, `allocated up to ${written.at(-1)} MiB`);
    await box.stop();
  });

  test('stop leaves no process, cgroup or bundle', async () => {
    const spec = await kit.spec(sleepForever);
    const box = await kit.boxes.start({
      ...spec,
      limits: { memoryBytes: 256 * 1024 * 1024, pids: 64, cpus: 1 },
    });
    const bundle = bundleDir(kit.boxes.stateDir, spec.id);
    const cgroups = (await runningBoxCgroups(box.pid)).filter((dir) => dir.endsWith(`/${spec.id}`));
    assert.ok(cgroups.length > 0, 'the box has cgroups of its own');
    const memory = cgroups.find((dir) => existsSync(join(dir, 'memory.limit_in_bytes')));
    if (memory)
      assert.equal((await readFile(join(memory, 'memory.limit_in_bytes'), 'utf8')).trim(), '268435456');
    assert.ok((await boxHostPids(bundle)).length >= 2, 'the sentry and the gofer run');
    await box.stop();
    assert.deepEqual(await boxHostPids(bundle), []);
    assert.deepEqual(
      cgroups.filter((dir) => existsSync(dir)),
      [],
    );
    assert.equal(existsSync(bundle), false);
    assert.equal(await kit.boxes.find(spec.id), undefined);
  });
});
