// The one suite every sandbox driver passes. Each driver's test file calls it; a case a driver
// cannot pass by design is skipped with the reason, and limit cases the host cannot enforce are
// skipped with the capability that is missing. Every case asserts what really happened on the host.
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import * as pty from 'node-pty';
import { NixSpaceError } from '../errors.js';
import { type CollectedRun, collectRun } from './host/collect-run.js';
import { giveTree } from './host/give-tree.js';
import { RuntimeSandbox } from './runtime-sandbox.js';
import type { LimitKind, SandboxDriver, SandboxSpec, SpawnCommand } from './sandbox.js';
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
}

const mib = 1024 * 1024;

function spawnCommand(command: SpawnCommand): ChildProcess {
  return spawn(command.file, command.args, {
    cwd: command.cwd,
    env: command.env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

/** Runs a command to completion and collects its output (fails the test after 10 s). */
function run(command: SpawnCommand): Promise<CollectedRun> {
  return collectRun(command.file, command.args, { cwd: command.cwd, env: command.env, timeoutMs: 10_000 });
}

/** Resolves with the first stdout line of a long-running command (the child keeps running). */
function firstLine(child: ChildProcess): Promise<string> {
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

/** Host pids whose command line is exactly argv (found through the host's /proc). */
async function hostPidsRunning(argv: readonly string[]): Promise<number[]> {
  const wanted = `${argv.join('\0')}\0`;
  const found: number[] = [];
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const cmdline = await readFile(`/proc/${entry}/cmdline`, 'utf8').catch(() => '');
    if (cmdline === wanted) found.push(Number(entry));
  }
  return found;
}

/** Directories named `<id>` under a `nixspace` cgroup parent, in any mounted hierarchy. */
async function cgroupDirsOf(id: string): Promise<string[]> {
  const found: string[] = [];
  const walk = async (dir: string, depth: number): Promise<void> => {
    if (depth > 8) return;
    const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
    for (const entry of entries) {
      if (!entry.isDirectory()) continue;
      const path = join(dir, entry.name);
      if (entry.name === id && dir.endsWith('/nixspace')) found.push(path);
      else await walk(path, depth + 1);
    }
  };
  await walk('/sys/fs/cgroup', 0);
  return found;
}

async function waitFor<T>(probe: () => Promise<T | undefined>, what: string, timeoutMs = 5000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** A program of the sandbox on a PTY (node-pty, 80×24), with what it has printed so far. */
function onPty(sandbox: Pick<RuntimeSandbox, 'command'>, argv: string[]) {
  const command = sandbox.command(argv, { env: { PS1: '$ ' } });
  const shell = pty.spawn(command.file, command.args, {
    name: 'xterm',
    cols: 80,
    rows: 24,
    cwd: command.cwd,
    env: command.env,
  });
  const seen = { screen: '' };
  shell.onData((data) => {
    seen.screen += data;
  });
  const exited = new Promise<number>((resolve) => shell.onExit(({ exitCode }) => resolve(exitCode)));
  const shows = (pattern: RegExp, what: string) =>
    waitFor(async () => (pattern.test(seen.screen) ? true : undefined), what);
  return { shell, seen, exited, shows };
}

/** A sleep whose argv is unique to this test run, so the host can find exactly its processes. */
function uniqueSleep(): string[] {
  return ['sleep', `1000.${randomBytes(4).readUInt32BE()}`];
}

const nodeTcpClient = (port: number) =>
  `require('net').connect(${port}, '127.0.0.1')` +
  `.on('connect', () => { console.log('connected'); process.exit(0); })` +
  `.on('error', (e) => { console.log(e.code); process.exit(1); })`;

export function runSandboxConformance(options: SandboxConformanceOptions): void {
  const { name, makeDriver, skip = {} } = options;

  describe(`sandbox driver conformance: ${name}`, () => {
    const driver = makeDriver();
    const sandboxes: RuntimeSandbox[] = [];
    const children: ChildProcess[] = [];
    const cleanupIds: string[] = [];
    let root = '';

    before(async () => {
      root = await mkdtemp(join(tmpdir(), `nixspace-conformance-${name}-`));
    });

    after(async () => {
      for (const child of children) child.kill('SIGKILL');
      await Promise.all(sandboxes.map((sandbox) => sandbox.stop()));
      for (const id of cleanupIds) await driver.cleanup(id);
      await rm(root, { recursive: true, force: true });
    });

    async function newWorkspace(): Promise<string> {
      const dir = join(root, `ws-${randomBytes(4).toString('hex')}`);
      await mkdir(dir);
      // Its user's, as a workspace's files are; a driver without isolation runs as the server.
      if (driver.capabilities.unprivileged) await giveTree(dir, TEST_SANDBOX_USER);
      return dir;
    }

    async function startSandbox(overrides: Partial<SandboxSpec> = {}): Promise<RuntimeSandbox> {
      const spec: SandboxSpec = {
        id: `conformance-${randomBytes(6).toString('hex')}`,
        user: TEST_SANDBOX_USER,
        workspaceDir: await newWorkspace(),
        network: driver.capabilities.networkPolicies[0] ?? 'host',
        limits: {},
        ...overrides,
      };
      const sandbox = new RuntimeSandbox(driver, spec);
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
      run,
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
      const sandbox = await startSandbox({ workspaceDir, env: { FROM_SPEC: 'spec' } });
      process.env.NIXSPACE_CONFORMANCE_LEAK = 'leaked';
      try {
        const command = sandbox.command(
          ['sh', '-c', 'pwd; echo "$FROM_SPEC $FROM_CALL [$NIXSPACE_CONFORMANCE_LEAK]"'],
          {
            cwd: join(workspaceDir, 'sub'),
            env: { FROM_CALL: 'call' },
          },
        );
        const result = await run(command);
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
      const command = sandbox.command(['sh', '-c', 'id -u; id -g; stat -c %u . ; echo written > by-user'], {
        user: { uid: 4242, gid: 4343 },
      });
      const result = await run(command);
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

    it('runs an interactive shell on a PTY (node-pty)', { skip: skip.pty }, async () => {
      const sandbox = await startSandbox();
      const { shell, exited, shows } = onPty(sandbox, ['/bin/sh']);
      try {
        shell.write('echo $((6*7))\r');
        // The typed line echoes "6*7"; only the shell's arithmetic prints 42 (after a prompt).
        await shows(/\b42\r?\n/, '42 on the PTY');
        shell.write('exit\r');
        assert.equal(await exited, 0);
      } finally {
        shell.kill('SIGKILL');
      }
    });

    it('gives a shell on a PTY a terminal of its own inside: tty, job control, window size, exit status', {
      skip: skip.pty,
    }, async () => {
      const sandbox = await startSandbox();
      const { shell, seen, exited, shows } = onPty(sandbox, ['/bin/bash', '--norc', '-i']);
      try {
        // The typed line echoes the command; only its output has the words joined by "=".
        shell.write('echo "TTY=$(tty)" "PTS=$(ls /dev/pts | tr \'\\n\' ,)"\r');
        await shows(/TTY=\/dev\/pts\/\d+ PTS=/, 'a /dev/pts/N terminal');
        const pts = /PTS=([^\s]*)/.exec(seen.screen.slice(seen.screen.indexOf('TTY=/dev')))?.[1] ?? '';
        // Only the sandbox's own terminals are there, not the host's (a driver without isolation
        // shows the host's, however many other programs have open).
        if (driver.capabilities.isolation) {
          assert.ok(pts.split(',').filter((n) => /^\d+$/.test(n)).length <= 2, `sandbox ptys: ${pts}`);
        }
        shell.resize(123, 45);
        shell.write('echo "SIZE=$(stty size | tr \' \' x)"\r');
        await shows(/SIZE=45x123/, 'the new window size inside');
        shell.write('sleep 30 & jobs; kill %1; echo "JOBS=done"\r');
        await shows(/JOBS=done/, 'job control');
        shell.write('exit 7\r');
        assert.equal(await exited, 7);
      } finally {
        shell.kill('SIGKILL');
      }
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
      const result = await run(sandbox.command(['sh', '-c', script, 'sh', workspaceDir, ...forbidden]));
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
      const result = await run(
        sandbox.command([
          'sh',
          '-c',
          script,
          hidden,
          join(hidden, 'secret.key'),
          join(hidden, 'workspaces', 'theirs', 'private.txt'),
        ]),
      );
      assert.equal(result.stdout, 'shared\nmine\n', result.stderr);
      assert.equal(await readFile(join(workspaceDir, 'file'), 'utf8'), 'mine\n');
    });

    it('hides host processes', { skip: skip.processes }, async () => {
      const sandbox = await startSandbox();
      const result = await run(sandbox.command(['ls', '/proc']));
      assert.equal(result.code, 0, result.stderr);
      const pids = result.stdout.split('\n').filter((entry) => /^\d+$/.test(entry));
      assert.ok(pids.length > 0 && pids.length < 20, `sandbox sees pids ${pids.join(' ')}`);
      assert.ok(!pids.includes(String(process.pid)), 'the test runner is visible inside');
    });

    it('lets two commands see each other and talk over 127.0.0.1', {
      skip: skip.sharedNamespaces,
    }, async () => {
      const sandbox = await startSandbox();
      const serverSource =
        "const s = require('net').createServer((c) => c.end('pong ' + process.pid));" +
        "s.listen(0, '127.0.0.1', () => console.log(s.address().port + ' ' + process.pid));";
      const server = keep(spawnCommand(sandbox.command([process.execPath, '-e', serverSource])));
      const [port, pid] = (await firstLine(server)).split(' ');
      const clientSource =
        `require('net').connect(${port}, '127.0.0.1', function () {})` +
        ".on('data', (d) => process.stdout.write(String(d)))" +
        ".on('error', (e) => { console.log(e.code); process.exit(1); });";
      const client = await run(
        sandbox.command([
          'sh',
          '-c',
          `tr '\\0' ' ' < /proc/${pid}/cmdline; echo; "$0" -e "$1"`,
          process.execPath,
          clientSource,
        ]),
      );
      server.kill('SIGKILL');
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
        const blocked = await run(isolated.command([process.execPath, '-e', nodeTcpClient(address.port)]));
        assert.notEqual(blocked.stdout.trim(), 'connected');
        if (driver.capabilities.networkPolicies.includes('host')) {
          // The control: the same client does reach the host under 'host', so the probe is sound.
          const shared = await startSandbox({ network: 'host' });
          const reached = await run(shared.command([process.execPath, '-e', nodeTcpClient(address.port)]));
          assert.equal(reached.stdout.trim(), 'connected', reached.stderr);
        }
      } finally {
        server.close();
      }
    });

    it('stops the whole process tree, daemons included', { skip: skip.stopKillsTree }, async () => {
      const sandbox = await startSandbox();
      const sleep = uniqueSleep();
      const script = '"$@" & "$@" & (setsid "$@" &) ; echo ready; wait';
      const tree = keep(spawnCommand(sandbox.command(['sh', '-c', script, 'sh', ...sleep])));
      assert.equal(await firstLine(tree), 'ready');
      await waitFor(
        async () => ((await hostPidsRunning(sleep)).length === 3 ? true : undefined),
        'three sleeps',
      );
      await sandbox.stop();
      assert.deepEqual(await hostPidsRunning(sleep), []);
      assert.equal(sandbox.state, 'stopped');
    });

    it('kills a process that exceeds the memory limit', {
      skip: skip.memoryLimit ?? unenforced('memory'),
    }, async () => {
      const sandbox = await startSandbox({ limits: { memoryBytes: 64 * mib } });
      // tail must buffer its whole input when it sees no newline: the memory goes to one process.
      const hungry = await run(sandbox.command(['sh', '-c', 'head -c 1G /dev/zero | tail > /dev/null']));
      assert.ok(hungry.code !== 0 || hungry.signal !== null, 'the 1 GiB process survived a 64 MiB limit');
      const small = await run(sandbox.command(['sh', '-c', 'head -c 8M /dev/zero | tail > /dev/null']));
      assert.equal(small.code, 0, small.stderr);
    });

    it('stops a fork loop at the pids limit', { skip: skip.pidsLimit ?? unenforced('pids') }, async () => {
      const sandbox = await startSandbox({ limits: { pids: 24 } });
      const sleep = uniqueSleep();
      const script = 'i=0; while [ $i -lt 60 ]; do "$@" >/dev/null 2>&1 & i=$((i+1)); done; echo all-started';
      const result = await run(sandbox.command(['sh', '-c', script, 'sh', ...sleep]));
      assert.notEqual(result.stdout.trim(), 'all-started');
      assert.match(result.stderr, /fork|resource temporarily unavailable/i);
      const running = (await hostPidsRunning(sleep)).length;
      assert.ok(running > 0 && running < 24, `${running} sleeps running under a limit of 24`);
      await sandbox.stop();
    });

    it('applies the cpu quota to the cgroup of its processes', {
      skip: skip.cpuLimit ?? unenforced('cpu'),
    }, async () => {
      const sandbox = await startSandbox({ limits: { cpus: 0.5 } });
      const result = await run(sandbox.command(['cat', '/proc/self/cgroup']));
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

    it('refuses commands after stop, and stops once', { skip: skip.afterStop }, async () => {
      const sandbox = await startSandbox();
      const first = sandbox.stop();
      assert.equal(sandbox.stop(), first, 'concurrent stops share one promise');
      await first;
      await sandbox.stop();
      assert.throws(
        () => sandbox.command(['true']),
        (error) =>
          error instanceof NixSpaceError &&
          error.code === 'CONFLICT' &&
          error.message === `sandbox ${sandbox.id} is stopped`,
      );
      await assert.rejects(
        sandbox.start(),
        (error) => error instanceof NixSpaceError && error.code === 'CONFLICT',
      );
    });

    it('cleans up after a server that died without stopping', { skip: skip.crashCleanup }, async () => {
      const id = `conformance-crash-${randomBytes(6).toString('hex')}`;
      cleanupIds.push(id);
      const sleep = uniqueSleep();
      const spec: SandboxSpec = {
        id,
        user: TEST_SANDBOX_USER,
        workspaceDir: await newWorkspace(),
        network: 'host',
        limits: { pids: 64 },
      };
      spec.network = driver.capabilities.networkPolicies.includes('none') ? 'none' : 'host';
      // The "server": starts a sandbox, runs a process tree inside, and is SIGKILLed.
      const serverSource = `
        import { spawn } from 'node:child_process';
        const module = await import(process.env.DRIVER_URL);
        const driver = new module[process.env.DRIVER_EXPORT]();
        const sandbox = await driver.start(JSON.parse(process.env.SPEC));
        const sleep = JSON.parse(process.env.SLEEP);
        const command = sandbox.command(['sh', '-c', '"$@" & (setsid "$@" &); echo ready; wait', 'sh', ...sleep]);
        const child = spawn(command.file, command.args, { cwd: command.cwd, env: command.env, stdio: ['ignore', 'pipe', 'inherit'] });
        child.stdout.pipe(process.stdout);
      `;
      const server = keep(
        spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', serverSource], {
          env: {
            ...process.env,
            DRIVER_URL: options.driverModule.url,
            DRIVER_EXPORT: options.driverModule.exportName,
            SPEC: JSON.stringify(spec),
            SLEEP: JSON.stringify(sleep),
          },
          stdio: ['ignore', 'pipe', 'pipe'],
        }),
      );
      assert.equal(await firstLine(server), 'ready');
      await waitFor(
        async () => ((await hostPidsRunning(sleep)).length === 2 ? true : undefined),
        'two sleeps',
      );
      const gone = new Promise((resolve) => server.once('exit', resolve));
      server.kill('SIGKILL');
      await gone;

      await makeDriver().cleanup(id);
      assert.deepEqual(await hostPidsRunning(sleep), []);
      assert.deepEqual(await cgroupDirsOf(id), []);
    });
  });
}
