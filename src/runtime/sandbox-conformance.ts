// The one suite every sandbox driver passes. Each driver's test file calls it; a case a driver
// cannot pass by design is skipped with the reason, and limit cases the host cannot enforce are
// skipped with the capability that is missing. Every program runs as a workspace's do, through the
// sandbox's agent, and every case asserts what really happened on the host.
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, afterEach, before, describe, it } from 'node:test';
import { NixSpaceError } from '../errors.js';
import { firstLine, runToEnd, TestPrograms, waitFor } from './agent/agent-test-programs.js';
import { giveTree } from './host/give-tree.js';
import { cgroupDirsOf, hostPidsRunning, uniqueSleep } from './host/host-test-probes.js';
import { RuntimeSandbox } from './runtime-sandbox.js';
import type { LimitKind, SandboxDriver, SandboxSpec } from './sandbox.js';
import { escapeCases } from './sandbox-escape-conformance.js';
import { TEST_SANDBOX_USER } from './test-sandbox-user.js';

export type CaseName =
  | 'command'
  | 'user'
  | 'pty'
  | 'filesystem'
  | 'hiddenPaths'
  | 'processes'
  | 'sharedNamespaces'
  | 'networkNone'
  | 'stopKillsTree'
  | 'memoryLimit'
  | 'pidsLimit'
  | 'cpuLimit'
  | 'afterStop'
  | 'crashCleanup'
  | 'escape';

export interface SandboxConformanceOptions {
  name: string;
  makeDriver: () => SandboxDriver;
  /**
   * How a child process builds the same driver (`new module[exportName]()`), for the case that
   * kills the server side without stopping.
   */
  driverModule: { url: string; exportName: string };
  skip?: Partial<Record<CaseName, string>>;
  /**
   * How much slower than the host the driver's programs run (an emulated guest, say): the cases
   * that do real work get this many times their time limit.
   */
  slowdown?: number;
}

const mib = 1024 * 1024;

/** The first stdout line of a host child process (the crashing "server"). */
function childFirstLine(child: ChildProcess): Promise<string> {
  return new Promise((resolve, reject) => {
    let out = '';
    let err = '';
    child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
      err += chunk;
    });
    child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
      out += chunk;
      const newline = out.indexOf('\n');
      if (newline >= 0) resolve(out.slice(0, newline));
    });
    child.once('exit', (code) => reject(new Error(`exited with ${code} before printing a line: ${err}`)));
  });
}

const nodeTcpClient = (port: number) =>
  `require('net').connect(${port}, '127.0.0.1')` +
  `.on('connect', () => { console.log('connected'); process.exit(0); })` +
  `.on('error', (e) => { console.log(e.code); process.exit(1); })`;

/**
 * The "server" of the crash case: starts a sandbox through the driver module, starts a process
 * tree in it through the agent, says `ready <sandbox pid>` once the tree runs, and waits to be
 * SIGKILLed.
 */
const crashingServer = `
  const { AgentProcess } = await import(process.env.AGENT_PROCESS_URL);
  const module = await import(process.env.DRIVER_URL);
  const driver = new module[process.env.DRIVER_EXPORT]();
  const sandbox = await driver.start(JSON.parse(process.env.SPEC));
  const sleep = JSON.parse(process.env.SLEEP);
  const tree = await AgentProcess.spawn(sandbox.agent, {
    id: 'crash-tree',
    argv: ['sh', '-c', '"$@" & (setsid "$@" &); echo ready; wait', 'sh', ...sleep],
    cwd: sandbox.workspaceDir,
    env: sandbox.env(),
    output: { mode: 'ring', bytes: 4096 },
  });
  let out = '';
  const following = tree.follow('stdout', 0, (data) => {
    out += data.toString('utf8');
    if (out.includes('ready\\n')) {
      following.stop();
      console.log(sandbox.pid === undefined ? 'ready' : 'ready ' + sandbox.pid);
    }
  });
  setInterval(() => {}, 1 << 30);
`;

export function runSandboxConformance(options: SandboxConformanceOptions): void {
  const { name, makeDriver, skip = {}, slowdown = 1 } = options;

  describe(`sandbox driver conformance: ${name}`, () => {
    const driver = makeDriver();
    const sandboxes: RuntimeSandbox[] = [];
    const programs = new TestPrograms();
    const children: ChildProcess[] = [];
    const leftovers: { id: string; agentDir: string }[] = [];
    let root = '';

    before(async () => {
      root = await mkdtemp(join(tmpdir(), `nixspace-conformance-${name}-`));
    });

    // A case's sandboxes end with it: a microVM each is a whole guest kernel running.
    afterEach(async () => {
      await programs.forgetAll();
      await Promise.all(sandboxes.splice(0).map((sandbox) => sandbox.stop()));
    });

    after(async () => {
      for (const child of children) child.kill('SIGKILL');
      await programs.forgetAll();
      await Promise.all(sandboxes.map((sandbox) => sandbox.stop()));
      for (const { id, agentDir } of leftovers) await driver.cleanup(id, { agentDir });
      await rm(root, { recursive: true, force: true });
    });

    async function newWorkspace(): Promise<string> {
      const dir = join(root, `ws-${randomBytes(4).toString('hex')}`);
      await mkdir(dir);
      // Its user's, as a workspace's files are; a driver without isolation runs as the server.
      if (driver.capabilities.unprivileged) await giveTree(dir, TEST_SANDBOX_USER);
      return dir;
    }

    async function newSpec(overrides: Partial<SandboxSpec> = {}): Promise<SandboxSpec> {
      const id = overrides.id ?? `conformance-${randomBytes(6).toString('hex')}`;
      return {
        id,
        user: TEST_SANDBOX_USER,
        workspaceDir: overrides.workspaceDir ?? (await newWorkspace()),
        // The server's directory for the agent's socket: beside the workspaces, never inside one.
        agentDir: join(root, 'agents', id),
        network: driver.capabilities.networkPolicies[0] ?? 'host',
        limits: {},
        ...overrides,
      };
    }

    async function startSandbox(overrides: Partial<SandboxSpec> = {}): Promise<RuntimeSandbox> {
      const sandbox = new RuntimeSandbox(driver, await newSpec(overrides));
      sandboxes.push(sandbox);
      await sandbox.start();
      return sandbox;
    }

    function keep(child: ChildProcess): ChildProcess {
      children.push(child);
      return child;
    }

    escapeCases({
      startSandbox,
      newWorkspace,
      run: runToEnd,
      skip: skip.escape ?? (driver.capabilities.isolation ? undefined : 'the driver does not isolate'),
    });

    const unenforced = (kind: LimitKind) =>
      driver.capabilities.limits.includes(kind)
        ? undefined
        : `this host cannot enforce ${kind} limits (no writable cgroup controller)`;

    it('runs a command with the given cwd and env, and returns its output', {
      skip: skip.command,
    }, async () => {
      const workspaceDir = await newWorkspace();
      await mkdir(join(workspaceDir, 'sub'));
      // In the server's environment from before the sandbox starts: none of it may reach inside.
      process.env.NIXSPACE_CONFORMANCE_LEAK = 'leaked';
      try {
        const sandbox = await startSandbox({ workspaceDir, env: { FROM_SPEC: 'spec' } });
        const result = await runToEnd(
          sandbox,
          ['sh', '-c', 'pwd; echo "$FROM_SPEC $FROM_CALL [$NIXSPACE_CONFORMANCE_LEAK]"'],
          { cwd: join(workspaceDir, 'sub'), env: { FROM_CALL: 'call' } },
        );
        assert.equal(result.code, 0, result.stderr);
        assert.equal(result.stdout, `${join(workspaceDir, 'sub')}\nspec call []\n`);
      } finally {
        delete process.env.NIXSPACE_CONFORMANCE_LEAK;
      }
    });

    it('runs a command as another user that owns the workspace files from inside', {
      skip: skip.user,
    }, async () => {
      const workspaceDir = await newWorkspace();
      const sandbox = await startSandbox({ workspaceDir });
      const result = await runToEnd(
        sandbox,
        ['sh', '-c', 'id -u; id -g; stat -c %u . ; echo written > by-user'],
        { user: { uid: 4242, gid: 4343 } },
      );
      assert.equal(result.code, 0, result.stderr);
      if (driver.capabilities.unprivileged) {
        // Every program already is the workspace user, never root: nothing to switch to.
        assert.equal(result.stdout, '1000\n1000\n1000\n');
        const { uid, gid } = await stat(join(workspaceDir, 'by-user'));
        assert.deepEqual({ uid, gid }, TEST_SANDBOX_USER);
        return;
      }
      assert.equal(result.stdout, '4242\n4343\n4242\n');
      // On the host, what it wrote belongs to whoever owns the workspace, not to uid 4242.
      const { uid } = await stat(join(workspaceDir, 'by-user'));
      assert.equal(uid, process.getuid?.());
    });

    it("runs an interactive shell on a terminal of the agent's", { skip: skip.pty }, async () => {
      const sandbox = await startSandbox();
      const shell = await programs.pty(sandbox, ['/bin/sh'], { env: { PS1: '$ ' } });
      shell.write('echo $((6*7))\r');
      // The typed line echoes "6*7"; only the shell's arithmetic prints 42 (after a prompt).
      await shell.shows(/\b42\r?\n/, '42');
      shell.write('exit\r');
      assert.equal(await shell.exitCode(), 0);
    });

    it('gives a shell on a terminal a terminal of its own inside: tty, job control, window size, exit status', {
      skip: skip.pty,
    }, async () => {
      const sandbox = await startSandbox();
      const shell = await programs.pty(sandbox, ['/bin/bash', '--norc', '-i'], { env: { PS1: '$ ' } });
      // The typed line echoes the command; only its output has the words joined by "=".
      shell.write('echo "TTY=$(tty)" "PTS=$(ls /dev/pts | tr \'\\n\' ,)"\r');
      await shell.shows(/TTY=\/dev\/pts\/\d+ PTS=/, 'a /dev/pts/N terminal');
      const screen = shell.screen();
      const pts = /PTS=([^\s]*)/.exec(screen.slice(screen.indexOf('TTY=/dev')))?.[1] ?? '';
      // Only the sandbox's own terminals are there, not the host's (a driver without isolation
      // shows the host's, however many other programs have open).
      if (driver.capabilities.isolation) {
        assert.ok(pts.split(',').filter((n) => /^\d+$/.test(n)).length <= 2, `sandbox ptys: ${pts}`);
      }
      await shell.resize(123, 45);
      shell.write('echo "SIZE=$(stty size | tr \' \' x)"\r');
      await shell.shows(/SIZE=45x123/, 'the new window size inside');
      shell.write('sleep 30 & jobs; kill %1; echo "JOBS=done"\r');
      await shell.shows(/JOBS=done/, 'job control');
      shell.write('exit 7\r');
      assert.equal(await shell.exitCode(), 7);
    });

    it('lets the sandbox write only its workspace', { skip: skip.filesystem }, async () => {
      const workspaceDir = await newWorkspace();
      const sandbox = await startSandbox({ workspaceDir });
      const sibling = await newWorkspace();
      const tag = randomBytes(4).toString('hex');
      const forbidden = [
        `/nixspace-${tag}`,
        `/etc/nixspace-${tag}`,
        `/usr/nixspace-${tag}`,
        join(sibling, 'x'),
      ];
      const script = [
        'echo inside > "$1/written-inside"',
        'shift',
        'for p in "$@"; do if (echo x > "$p") 2>/dev/null; then echo "WROTE $p"; fi; done',
        // Root in the sandbox must not be able to lift the read-only host either.
        'if mount -o remount,bind,rw / 2>/dev/null; then echo REMOUNTED; fi',
        'echo done',
      ].join('\n');
      const result = await runToEnd(sandbox, ['sh', '-c', script, 'sh', workspaceDir, ...forbidden]);
      assert.equal(result.stdout, 'done\n', result.stderr);
      assert.equal(await readFile(join(workspaceDir, 'written-inside'), 'utf8'), 'inside\n');
      for (const path of forbidden) assert.equal(existsSync(path), false, `${path} exists on the host`);
    });

    it('hides the paths it is told to hide, yet shows its workspace and read-only paths inside them', {
      skip: skip.hiddenPaths,
    }, async () => {
      const hidden = await newWorkspace();
      await writeFile(join(hidden, 'secret.key'), 'do not read\n');
      const shared = join(hidden, 'mirrors');
      await mkdir(shared);
      await writeFile(join(shared, 'objects'), 'shared\n');
      const workspaceDir = join(hidden, 'workspaces', 'mine');
      await mkdir(workspaceDir, { recursive: true });
      if (driver.capabilities.unprivileged) await giveTree(workspaceDir, TEST_SANDBOX_USER);
      await mkdir(join(hidden, 'workspaces', 'theirs'));
      await writeFile(join(hidden, 'workspaces', 'theirs', 'private.txt'), 'theirs\n');
      const sandbox = await startSandbox({ workspaceDir, hiddenPaths: [hidden], readOnlyPaths: [shared] });
      const script = [
        'for p in "$@"; do if [ -e "$p" ]; then echo "SEES $p"; fi; done',
        'cat "$0/mirrors/objects"',
        'echo mine > "$0/workspaces/mine/file" && cat "$0/workspaces/mine/file"',
        'if (echo x > "$0/mirrors/objects") 2>/dev/null; then echo "WROTE mirrors"; fi',
      ].join('\n');
      const result = await runToEnd(sandbox, [
        'sh',
        '-c',
        script,
        hidden,
        join(hidden, 'secret.key'),
        join(hidden, 'workspaces', 'theirs', 'private.txt'),
      ]);
      assert.equal(result.stdout, 'shared\nmine\n', result.stderr);
      assert.equal(await readFile(join(workspaceDir, 'file'), 'utf8'), 'mine\n');
    });

    it('hides host processes', { skip: skip.processes }, async () => {
      const sandbox = await startSandbox();
      const result = await runToEnd(sandbox, ['ls', '/proc']);
      assert.equal(result.code, 0, result.stderr);
      const pids = result.stdout.split('\n').filter((entry) => /^\d+$/.test(entry));
      assert.ok(pids.length > 0 && pids.length < 20, `sandbox sees pids ${pids.join(' ')}`);
      assert.ok(!pids.includes(String(process.pid)), 'the test runner is visible inside');
    });

    it('lets two programs see each other and talk over 127.0.0.1', {
      skip: skip.sharedNamespaces,
    }, async () => {
      const sandbox = await startSandbox();
      const serverSource =
        "const s = require('net').createServer((c) => c.end('pong ' + process.pid));" +
        "s.listen(0, '127.0.0.1', () => console.log(s.address().port + ' ' + process.pid));";
      const server = await programs.spawn(sandbox, [process.execPath, '-e', serverSource]);
      const [port, pid] = (await firstLine(server)).split(' ');
      const clientSource =
        `require('net').connect(${port}, '127.0.0.1', function () {})` +
        ".on('data', (d) => process.stdout.write(String(d)))" +
        ".on('error', (e) => { console.log(e.code); process.exit(1); });";
      const client = await runToEnd(sandbox, [
        'sh',
        '-c',
        `tr '\\0' ' ' < /proc/${pid}/cmdline; echo; "$0" -e "$1"`,
        process.execPath,
        clientSource,
      ]);
      await server.forget();
      assert.equal(client.code, 0, client.stderr);
      const [cmdline, reply] = client.stdout.split('\n');
      assert.match(cmdline ?? '', /-e/, 'the server is visible by its pid');
      assert.equal(reply, `pong ${pid}`);
    });

    it("blocks the host's loopback under network policy 'none'", { skip: skip.networkNone }, async () => {
      const server: Server = createServer((socket) => socket.end());
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      try {
        const address = server.address();
        assert.ok(address !== null && typeof address === 'object');
        const isolated = await startSandbox({ network: 'none' });
        const blocked = await runToEnd(isolated, [process.execPath, '-e', nodeTcpClient(address.port)]);
        assert.notEqual(blocked.stdout.trim(), 'connected');
        if (driver.capabilities.networkPolicies.includes('host')) {
          // The control: the same client does reach the host under 'host', so the probe is sound.
          const shared = await startSandbox({ network: 'host' });
          const reached = await runToEnd(shared, [process.execPath, '-e', nodeTcpClient(address.port)]);
          assert.equal(reached.stdout.trim(), 'connected', reached.stderr);
        }
      } finally {
        server.close();
      }
    });

    it('stops the whole process tree, daemons and the agent included', {
      skip: skip.stopKillsTree,
    }, async () => {
      const sandbox = await startSandbox();
      const sleep = uniqueSleep();
      const script = '"$@" & "$@" & (setsid "$@" &) ; echo ready; wait';
      const tree = await programs.spawn(sandbox, ['sh', '-c', script, 'sh', ...sleep]);
      assert.equal(await firstLine(tree), 'ready');
      await waitFor(
        async () => ((await hostPidsRunning(sleep)).length === 3 ? true : undefined),
        'three sleeps',
      );
      await sandbox.stop();
      assert.deepEqual(await hostPidsRunning(sleep), []);
      assert.equal(sandbox.state, 'stopped');
      if (sandbox.pid !== undefined)
        assert.equal(existsSync(`/proc/${sandbox.pid}`), false, 'the init is gone');
    });

    it('kills a process that exceeds the memory limit, and the sandbox runs on', {
      skip: skip.memoryLimit ?? unenforced('memory'),
    }, async () => {
      // Room for the agent (a Node program) beside what the commands take.
      const sandbox = await startSandbox({ limits: { memoryBytes: 256 * mib } });
      // tail must buffer its whole input when it sees no newline: the memory goes to one process.
      const hungry = await runToEnd(sandbox, ['sh', '-c', 'head -c 2G /dev/zero | tail > /dev/null'], {
        timeoutMs: 30_000 * slowdown,
      });
      assert.ok(hungry.code !== 0 || hungry.signal !== null, 'the 2 GiB process survived a 256 MiB limit');
      const small = await runToEnd(sandbox, ['sh', '-c', 'head -c 8M /dev/zero | tail > /dev/null']);
      assert.equal(small.code, 0, small.stderr);
    });

    it('stops a fork loop at the pids limit', { skip: skip.pidsLimit ?? unenforced('pids') }, async () => {
      // The agent's own threads count too; the loop wants far more than the limit leaves.
      const limit = 64;
      const sandbox = await startSandbox({ limits: { pids: limit } });
      const sleep = uniqueSleep();
      const script =
        'i=0; while [ $i -lt 150 ]; do "$@" >/dev/null 2>&1 & i=$((i+1)); done; echo all-started';
      const result = await runToEnd(sandbox, ['sh', '-c', script, 'sh', ...sleep]);
      assert.notEqual(result.stdout.trim(), 'all-started');
      assert.match(result.stderr, /fork|resource temporarily unavailable/i);
      const running = (await hostPidsRunning(sleep)).length;
      assert.ok(running > 0 && running < limit, `${running} sleeps running under a limit of ${limit}`);
      await sandbox.stop();
      assert.deepEqual(await hostPidsRunning(sleep), []);
    });

    it('applies the cpu quota to the cgroup of its processes', {
      skip: skip.cpuLimit ?? unenforced('cpu'),
    }, async () => {
      const sandbox = await startSandbox({ limits: { cpus: 0.5 } });
      const result = await runToEnd(sandbox, ['cat', '/proc/self/cgroup']);
      assert.equal(result.code, 0, result.stderr);
      const quotas: string[] = [];
      for (const line of result.stdout.trim().split('\n')) {
        const [, controllers = '', path = ''] = line.split(':');
        const v1 = controllers.split(',').includes('cpu');
        const candidates = v1
          ? [`/sys/fs/cgroup/cpu${path}`, `/sys/fs/cgroup/cpu,cpuacct${path}`]
          : controllers === ''
            ? [`/sys/fs/cgroup${path}`]
            : [];
        for (const dir of candidates) {
          if (v1 && existsSync(join(dir, 'cpu.cfs_quota_us'))) {
            const quota = (await readFile(join(dir, 'cpu.cfs_quota_us'), 'utf8')).trim();
            const period = (await readFile(join(dir, 'cpu.cfs_period_us'), 'utf8')).trim();
            quotas.push(`${quota} ${period}`);
          } else if (!v1 && existsSync(join(dir, 'cpu.max'))) {
            quotas.push((await readFile(join(dir, 'cpu.max'), 'utf8')).trim());
          }
        }
      }
      assert.deepEqual(quotas, ['50000 100000']);
    });

    it('refuses programs after stop, and stops once', { skip: skip.afterStop }, async () => {
      const sandbox = await startSandbox();
      const marker = join(sandbox.workspaceDir, 'ran-after-stop');
      const first = sandbox.stop();
      assert.equal(sandbox.stop(), first, 'concurrent stops share one promise');
      await first;
      await sandbox.stop();
      await assert.rejects(
        runToEnd(sandbox, ['touch', marker]),
        (error) =>
          error instanceof NixSpaceError && (error.code === 'SANDBOX_FAILED' || error.code === 'CONFLICT'),
      );
      assert.equal(existsSync(marker), false, 'nothing ran');
      await assert.rejects(
        sandbox.start(),
        (error) =>
          error instanceof NixSpaceError &&
          error.code === 'CONFLICT' &&
          error.message === `sandbox ${sandbox.id} is stopped`,
      );
    });

    it('cleans up after a server that died without stopping', { skip: skip.crashCleanup }, async () => {
      const spec = await newSpec({
        id: `conformance-crash-${randomBytes(6).toString('hex')}`,
        network: driver.capabilities.networkPolicies.includes('none') ? 'none' : 'host',
        limits: { pids: 64 },
      });
      leftovers.push({ id: spec.id, agentDir: spec.agentDir });
      const sleep = uniqueSleep();
      // The "server": starts a sandbox, runs a process tree inside, and is SIGKILLed.
      const server = keep(
        spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', crashingServer], {
          env: {
            ...process.env,
            AGENT_PROCESS_URL: new URL('./agent/agent-process.ts', import.meta.url).href,
            DRIVER_URL: options.driverModule.url,
            DRIVER_EXPORT: options.driverModule.exportName,
            SPEC: JSON.stringify(spec),
            SLEEP: JSON.stringify(sleep),
          },
          stdio: ['ignore', 'pipe', 'pipe'],
        }),
      );
      const ready = await childFirstLine(server);
      assert.match(ready, /^ready( \d+)?$/);
      const initPid = ready.split(' ')[1];
      await waitFor(
        async () => ((await hostPidsRunning(sleep)).length === 2 ? true : undefined),
        'two sleeps',
      );
      const gone = new Promise((resolve) => server.once('exit', resolve));
      server.kill('SIGKILL');
      await gone;
      // The sandbox outlives its server: its tree still runs until cleanup ends it.
      assert.equal((await hostPidsRunning(sleep)).length, 2, 'the tree runs on without its server');

      await makeDriver().cleanup(spec.id, { agentDir: spec.agentDir });
      assert.deepEqual(await hostPidsRunning(sleep), []);
      assert.deepEqual(await cgroupDirsOf(spec.id), []);
      if (initPid) assert.equal(existsSync(`/proc/${initPid}`), false, 'the init is gone');
    });
  });
}
