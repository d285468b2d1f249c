import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, symlink } from 'node:fs/promises';
import { request } from 'node:http';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { defaultIdeDir } from '../../config.js';
import { giveTree } from '../../runtime/host/give-tree.js';
import { RuntimeSandbox } from '../../runtime/runtime-sandbox.js';
import type { SandboxDriver } from '../../runtime/sandbox.js';
import { selectSandboxDriver } from '../../runtime/select-driver.js';
import { TEST_SANDBOX_USER } from '../../runtime/test-sandbox-user.js';
import { type CodeServerInstallation, CodeServerInstaller } from './code-server-install.js';
import { answers, CodeServerRunner, type RunnerLimits } from './code-server-runner.js';

const limits: RunnerLimits = {
  maxRestarts: 2,
  restartDelayMs: 50,
  readyTimeoutMs: 60_000,
  stopGraceMs: 3000,
};

describe('code-server in a bubblewrap sandbox', () => {
  let driver: SandboxDriver;
  let installation: CodeServerInstallation;
  let root = '';
  const sandboxes: RuntimeSandbox[] = [];
  const runners: CodeServerRunner[] = [];

  before(async () => {
    driver = await selectSandboxDriver({ unsafeNoSandbox: false });
    // The real code-server, installed once per machine the way the product does it.
    installation = await new CodeServerInstaller({ dir: defaultIdeDir() }).ensure();
    root = await mkdtemp(join(tmpdir(), 'nixspace-ide-'));
  });

  after(async () => {
    await Promise.all(runners.map((runner) => runner.stop()));
    await Promise.all(sandboxes.map((sandbox) => sandbox.stop()));
    await rm(root, { recursive: true, force: true });
  });

  async function workspace(runnerLimits = limits) {
    const name = randomBytes(4).toString('hex');
    const dir = join(root, name);
    const runtimeDir = join(root, 'run', name);
    await mkdir(join(dir, 'repo'), { recursive: true });
    await giveTree(dir, TEST_SANDBOX_USER);
    await mkdir(runtimeDir, { recursive: true });
    await giveTree(runtimeDir, TEST_SANDBOX_USER);
    const sandbox = await RuntimeSandbox.start(driver, {
      id: `ide-${randomBytes(6).toString('hex')}`,
      user: TEST_SANDBOX_USER,
      workspaceDir: dir,
      runtimeDir,
      agentDir: join(root, 'agents', name),
      readOnlyPaths: [installation.dir],
      network: 'none',
      limits: {},
      env: { HOME: join(dir, 'home'), PATH: '/usr/bin:/bin' },
    });
    sandboxes.push(sandbox);
    const changes: string[] = [];
    const runner = new CodeServerRunner(
      {
        sandbox,
        workspaceDir: dir,
        folder: join(dir, 'repo'),
        env: { HOME: join(dir, 'home'), PATH: '/usr/bin:/bin', NIXSPACE_TOOLCHAIN_MARK: 'activated' },
        runtimeDir,
        hostSocket: join(root, 'host', `${name}.sock`),
        onChange: (status) => changes.push(status.status),
      },
      runnerLimits,
    );
    runners.push(runner);
    return { dir, sandbox, runner, changes };
  }

  /** code-server's own processes among those of the runner's group, as the host sees them. */
  async function codeServerPids(runner: CodeServerRunner): Promise<number[]> {
    const found: number[] = [];
    for (const pid of await runner.hostPids()) {
      const cmdline = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
      if (cmdline.includes(installation.entry)) found.push(pid);
    }
    return found;
  }

  /** Kills code-server the way a crash would: every process of it at once. */
  async function crash(runner: CodeServerRunner): Promise<void> {
    for (const pid of await runner.hostPids()) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // gone
      }
    }
  }

  async function waitFor(predicate: () => boolean, what: string, timeoutMs = 60_000) {
    const deadline = Date.now() + timeoutMs;
    while (!predicate()) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  it("serves VS Code on a socket in the sandbox's runtime dir, with the workspace environment and its own settings dir", async () => {
    const { dir, runner } = await workspace();
    await runner.start(installation);
    assert.equal(runner.status.status, 'running', runner.status.detail ?? '');
    assert.ok(runner.status.startedAt);
    assert.equal(runner.socketPath, join(root, 'host', `${dir.split('/').pop()}.sock`));
    assert.ok(runner.listenPath.startsWith(join(root, 'run')));
    assert.ok(await answers(runner.socketPath));
    const pids = await codeServerPids(runner);
    assert.ok(pids.length > 0, 'code-server runs in its command group');
    const environ = (await readFile(`/proc/${pids[0]}/environ`, 'utf8')).split('\0');
    assert.ok(environ.includes('NIXSPACE_TOOLCHAIN_MARK=activated'));
    const settings = join(dir, '.nixspace', 'ide', 'user-data', 'User', 'settings.json');
    assert.equal(JSON.parse(await readFile(settings, 'utf8'))['telemetry.telemetryLevel'], 'off');
    const argv = (await readFile(`/proc/${pids[0]}/cmdline`, 'utf8')).split('\0');
    assert.equal(argv[argv.indexOf('--extensions-dir') + 1], join(dir, '.nixspace', 'ide', 'extensions'));
    assert.ok(existsSync(join(dir, '.nixspace', 'ide', 'user-data')), 'user data lives under the workspace');
  });

  it('restarts code-server after a crash, and gives up after the limit', async () => {
    const { runner, changes } = await workspace({ ...limits, maxRestarts: 1 });
    await runner.start(installation);
    assert.equal(runner.status.status, 'running');
    await crash(runner);
    await waitFor(() => runner.status.restarts === 1 && runner.status.status === 'running', 'a restart');
    assert.ok(changes.includes('restarting'));
    assert.ok(await answers(runner.socketPath));

    await crash(runner);
    await waitFor(() => runner.status.status === 'failed', 'giving up');
    assert.match(runner.status.detail ?? '', /gave up after 1 restarts/);
    assert.equal(await answers(runner.socketPath), false);
  });

  it('answers only requests with the secret of its start, on a link a symlink planted in the sandbox does not move', async () => {
    const { runner } = await workspace();
    await runner.start(installation);
    const get = (cookie?: string) =>
      new Promise<number>((resolve, reject) => {
        const req = request(
          { socketPath: runner.socketPath, path: '/', headers: cookie ? { cookie } : {} },
          (res) => {
            res.resume();
            resolve(
              res.statusCode === 302 && /login/.test(res.headers.location ?? '')
                ? 401
                : (res.statusCode ?? 0),
            );
          },
        );
        req.once('error', reject);
        req.end();
      });
    assert.equal(await get(), 401, 'no secret: the login page, which no password opens');
    assert.equal(await get('code-server-session=guess'), 401);
    assert.equal(await get(runner.authCookie), 302);
    // The sandbox swaps its socket for a symlink to a host socket: the server's link stays.
    const squatter = createServer((socket) => socket.destroy());
    const squatted = join(root, `squatter-${randomBytes(3).toString('hex')}.sock`);
    await new Promise<void>((resolve) => squatter.listen(squatted, resolve));
    try {
      await rm(runner.listenPath);
      await symlink(squatted, runner.listenPath);
      assert.equal(await get(runner.authCookie), 302, 'still code-server');
    } finally {
      await new Promise<void>((resolve) => squatter.close(() => resolve()));
    }
  });

  it('is taken back, running, by the runner of a server that restarted: same processes, same secret', async () => {
    const { sandbox, dir, runner } = await workspace();
    await runner.start(installation);
    const pids = await codeServerPids(runner);
    const cookie = runner.authCookie;
    runner.release();
    const again = new CodeServerRunner(
      {
        sandbox,
        workspaceDir: dir,
        folder: join(dir, 'repo'),
        env: { HOME: join(dir, 'home'), PATH: '/usr/bin:/bin' },
        runtimeDir: runner.listenPath.slice(0, runner.listenPath.lastIndexOf('/')),
        hostSocket: runner.socketPath,
      },
      limits,
    );
    runners.push(again);
    await again.start(installation);
    assert.equal(again.status.status, 'running', again.status.detail ?? '');
    assert.deepEqual(await codeServerPids(again), pids, 'the very code-server, not a new one');
    assert.equal(again.authCookie, cookie);
    assert.ok(await answers(again.socketPath));
  });

  it('stops code-server and everything it started', async () => {
    const { runner } = await workspace();
    await runner.start(installation);
    assert.ok((await codeServerPids(runner)).length > 0);
    await runner.stop();
    assert.equal(runner.status.status, 'stopped');
    assert.equal(await answers(runner.socketPath), false);
    assert.deepEqual(await runner.hostPids(), []);
  });
});
