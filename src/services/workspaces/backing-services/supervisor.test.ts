import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Service } from '../../../detect/env-spec.js';
import { giveTree } from '../../../runtime/host/give-tree.js';
import { pidNamespaceOf, pidsInNamespace } from '../../../runtime/host/host-processes.js';
import { RuntimeSandbox } from '../../../runtime/runtime-sandbox.js';
import type { NetworkPolicy, SandboxDriver } from '../../../runtime/sandbox.js';
import { execInSandbox } from '../../../runtime/sandbox-exec.js';
import { selectSandboxDriver } from '../../../runtime/select-driver.js';
import { TEST_SANDBOX_USER } from '../../../runtime/test-sandbox-user.js';
import type { BackingService } from './backing-service.js';
import { backingServices } from './service-kinds.js';
import { ServiceSupervisor, type StartedServices, type SupervisorContext } from './supervisor.js';

const source = { file: 'docker-compose.yml' };
const service = (name: string, version: string | null = null): Service => ({ name, version, source });

describe('backing services in a bubblewrap sandbox', () => {
  let driver: SandboxDriver;
  let root = '';
  const sandboxes: RuntimeSandbox[] = [];
  const running: StartedServices[] = [];
  const supervisor = new ServiceSupervisor({ restartDelayMs: 100, stopGraceMs: 5000 });

  before(async () => {
    driver = await selectSandboxDriver({ unsafeNoSandbox: false });
    root = await mkdtemp(join(tmpdir(), 'nixspace-backing-services-'));
  });

  after(async () => {
    await Promise.all(running.map((services) => services.stop()));
    await Promise.all(sandboxes.map((sandbox) => sandbox.stop()));
    await rm(root, { recursive: true, force: true });
  });

  async function workspace(network: NetworkPolicy = 'none', workspaceDir?: string) {
    const dir = workspaceDir ?? join(root, `ws-${randomBytes(4).toString('hex')}`);
    await mkdir(dir, { recursive: true });
    await giveTree(dir, TEST_SANDBOX_USER);
    const id = `services-${randomBytes(6).toString('hex')}`;
    const sandbox = await RuntimeSandbox.start(driver, {
      id,
      user: TEST_SANDBOX_USER,
      workspaceDir: dir,
      agentDir: join(root, 'agents', id),
      network,
      limits: {},
    });
    sandboxes.push(sandbox);
    return { sandbox, dir, context: { sandbox, workspaceDir: dir, env: {}, network } as SupervisorContext };
  }

  async function start(services: Service[], context: SupervisorContext, sup = supervisor) {
    const started = await sup.start(services, context);
    running.push(started);
    return started;
  }

  /** Runs a shell script inside the sandbox with the services' settings in its environment. */
  async function sh(sandbox: RuntimeSandbox, script: string, env: Record<string, string>) {
    const result = await execInSandbox(sandbox, ['sh', '-c', script], { env, timeoutMs: 15_000 });
    assert.equal(result.code, 0, `${script}\n${result.stderr}`);
    return result.stdout.trim();
  }

  const statusOf = (services: StartedServices, name: string) => {
    const status = services.statuses.find((s) => s.name === name);
    assert.ok(status, `no status for ${name}`);
    return status;
  };

  /** Names of the processes left in the sandbox besides its init (bwrap's reaper and the agent). */
  async function processesIn(sandbox: RuntimeSandbox): Promise<string[]> {
    const namespace = await pidNamespaceOf(sandbox.pid!);
    assert.ok(namespace);
    const names = await Promise.all(
      (await pidsInNamespace(namespace)).map(async (pid) =>
        (await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '')).replaceAll('\0', ' ').trim(),
      ),
    );
    return names.filter((name) => name !== '' && !/^\S*\/bwrap |\/agent\/main\.js$/.test(name));
  }

  it('runs postgres and redis inside the sandbox with their data under the workspace', async () => {
    const { sandbox, dir, context } = await workspace();
    const logs: string[] = [];
    const services = await start([service('postgres', '15'), service('redis')], {
      ...context,
      database: 'shop-api',
      onLog: (name, line) => logs.push(`${name}: ${line}`),
    });
    assert.deepEqual(
      services.statuses.map((s) => [s.name, s.status, s.port, s.versionMismatch]),
      [
        ['postgres', 'running', 5432, false],
        ['redis', 'running', 6379, false],
      ],
    );
    assert.equal(services.env.DATABASE_URL, 'postgresql://postgres@127.0.0.1:5432/shop_api');
    assert.equal(services.env.REDIS_URL, 'redis://127.0.0.1:6379');
    assert.deepEqual(
      [services.env.PGHOST, services.env.PGPORT, services.env.PGUSER, services.env.PGDATABASE],
      ['127.0.0.1', '5432', 'postgres', 'shop_api'],
    );

    assert.equal(await sh(sandbox, `psql "$DATABASE_URL" -tAc 'select 1'`, services.env), '1');
    // PG* alone is enough for clients that do not read DATABASE_URL.
    assert.equal(await sh(sandbox, `psql -tAc 'select current_database()'`, services.env), 'shop_api');
    await sh(sandbox, 'redis-cli -u "$REDIS_URL" set greeting hello', services.env);
    assert.equal(await sh(sandbox, 'redis-cli -u "$REDIS_URL" get greeting', services.env), 'hello');

    const major = statusOf(services, 'postgres').version?.split('.')[0];
    const serviceDir = join(dir, '.nixspace', 'services', `postgres-${major}`);
    assert.ok(existsSync(join(serviceDir, 'data', 'PG_VERSION')));
    assert.ok(
      logs.some((line) => line.startsWith('postgres: ') && line.includes('ready to accept connections')),
    );
    await services.stop();
    assert.match(await readFile(join(serviceDir, 'service.log'), 'utf8'), /ready to accept connections/);
  });

  it('runs postgres and redis on for the next server: the same servers, their data and clients', async () => {
    const { sandbox, context } = await workspace();
    const wanted = [service('postgres'), service('redis')];
    const first = await start(wanted, context);
    const startedAt = await sh(
      sandbox,
      `psql "$DATABASE_URL" -tAc 'select pg_postmaster_start_time()'`,
      first.env,
    );
    // Only in memory: a redis that restarted would have lost it.
    await sh(
      sandbox,
      'redis-cli -u "$REDIS_URL" config set appendonly no; redis-cli -u "$REDIS_URL" set unsaved yes',
      first.env,
    );
    await first.release();
    const again = await start(
      wanted,
      context,
      new ServiceSupervisor({ restartDelayMs: 100, stopGraceMs: 5000 }),
    );
    assert.deepEqual(
      again.statuses.map((s) => [s.name, s.status]),
      [
        ['postgres', 'running'],
        ['redis', 'running'],
      ],
    );
    assert.equal(
      await sh(sandbox, `psql "$DATABASE_URL" -tAc 'select pg_postmaster_start_time()'`, again.env),
      startedAt,
    );
    assert.equal(await sh(sandbox, 'redis-cli -u "$REDIS_URL" get unsaved', again.env), 'yes');
    await again.stop();
    assert.deepEqual(await processesIn(sandbox), []);
  });

  it('keeps the data of postgres and redis across stop and start', async () => {
    const { sandbox, context } = await workspace();
    const wanted = [service('postgres'), service('redis')];
    const logs: string[] = [];
    const first = await start(wanted, { ...context, onLog: (name, line) => logs.push(`${name}: ${line}`) });
    await sh(sandbox, `psql "$DATABASE_URL" -c 'create table notes (body text)'`, first.env);
    await sh(sandbox, `psql "$DATABASE_URL" -c "insert into notes values ('kept')"`, first.env);
    await sh(sandbox, 'redis-cli -u "$REDIS_URL" set counter 41', first.env);
    await first.stop();
    assert.deepEqual(await processesIn(sandbox), []);
    // Graceful: postgres got pg_ctl's "-m fast" signal, and redis flushed its append-only file.
    assert.ok(logs.includes('postgres: nixspace: postgres exited with code 0'), logs.join('\n'));
    assert.ok(logs.some((line) => line.includes('received fast shutdown request')));
    assert.ok(logs.some((line) => line.startsWith('redis: ') && line.includes('ready to exit')));

    const second = await start(wanted, context);
    assert.equal(await sh(sandbox, `psql "$DATABASE_URL" -tAc 'select body from notes'`, second.env), 'kept');
    assert.equal(await sh(sandbox, 'redis-cli -u "$REDIS_URL" incr counter', second.env), '42');
  });

  it('runs postgres on port 5432 in two sandboxes at once under network none', async () => {
    const a = await workspace();
    const b = await workspace();
    const [inA, inB] = await Promise.all([
      start([service('postgres')], a.context),
      start([service('postgres')], b.context),
    ]);
    assert.equal(statusOf(inA, 'postgres').port, 5432);
    assert.equal(statusOf(inB, 'postgres').port, 5432);
    await sh(a.sandbox, `psql "$DATABASE_URL" -c "create table who as select 'a' as name"`, inA.env);
    await sh(b.sandbox, `psql "$DATABASE_URL" -c "create table who as select 'b' as name"`, inB.env);
    assert.equal(await sh(a.sandbox, `psql "$DATABASE_URL" -tAc 'select name from who'`, inA.env), 'a');
    assert.equal(await sh(b.sandbox, `psql "$DATABASE_URL" -tAc 'select name from who'`, inB.env), 'b');
  });

  it("gives each service its own free port under network 'host', and keeps it across a restart", async () => {
    const one = await workspace('host');
    const two = await workspace('host');
    const inOne = await start([service('postgres'), service('redis')], one.context);
    const inTwo = await start([service('redis')], two.context);
    const ports = [...inOne.statuses, ...inTwo.statuses].map((s) => s.port);
    assert.equal(new Set(ports).size, 3, `ports ${ports.join(', ')}`);
    assert.equal(await sh(one.sandbox, `psql "$DATABASE_URL" -tAc 'select 1'`, inOne.env), '1');
    assert.equal(inOne.env.PGPORT, String(statusOf(inOne, 'postgres').port));
    assert.equal(await sh(two.sandbox, 'redis-cli -u "$REDIS_URL" ping', inTwo.env), 'PONG');

    const port = statusOf(inTwo, 'redis').port;
    await inTwo.stop();
    const again = await start([service('redis')], two.context);
    assert.equal(statusOf(again, 'redis').port, port);
  });

  it('starts the version the host has when the wanted one is missing, and reports both', async () => {
    const { context } = await workspace();
    const services = await start([service('redis', '99'), service('memcached')], context);
    const status = statusOf(services, 'redis');
    assert.equal(status.status, 'running');
    assert.equal(status.wantedVersion, '99');
    assert.equal(status.versionMismatch, true);
    assert.match(status.detail ?? '', new RegExp(`wanted redis 99, provided ${status.version}`));
    assert.equal(statusOf(services, 'memcached').status, 'running');
    assert.equal(services.env.MEMCACHE_SERVERS, '127.0.0.1:11211');
  });

  it('reports a service without binaries as missing, naming the package, and starts the others', async () => {
    const absent: BackingService = {
      ...backingServices.get('redis')!,
      name: 'absent',
      program: `nixspace-no-such-server-${randomBytes(4).toString('hex')}`,
      debianPackage: 'nixspace-absent-server',
    };
    const kinds = new Map([...backingServices, ['absent', absent]]);
    const { context } = await workspace();
    const services = await start(
      [service('absent', '3'), service('opensearch', '2'), service('redis')],
      context,
      new ServiceSupervisor({ kinds }),
    );
    assert.equal(statusOf(services, 'absent').status, 'missing');
    assert.match(
      statusOf(services, 'absent').detail ?? '',
      /install the Debian package 'nixspace-absent-server'/,
    );
    assert.equal(statusOf(services, 'opensearch').status, 'missing');
    assert.match(statusOf(services, 'opensearch').detail ?? '', /cannot run opensearch/);
    assert.equal(statusOf(services, 'redis').status, 'running');
    assert.deepEqual(Object.keys(services.env), ['REDIS_URL']);
  });

  it('restarts postgres after it is killed with SIGKILL from the host', async () => {
    const { sandbox, dir, context } = await workspace();
    const services = await start([service('postgres')], context);
    const major = statusOf(services, 'postgres').version?.split('.')[0];
    const pidFile = join(dir, '.nixspace', 'services', `postgres-${major}`, 'data', 'postmaster.pid');
    const innerPid = Number((await readFile(pidFile, 'utf8')).split('\n')[0]);
    const hostPid = await hostPidOf(sandbox, innerPid);
    process.kill(hostPid, 'SIGKILL');

    await waitFor(() => {
      const status = statusOf(services, 'postgres');
      return status.restarts === 1 && status.status === 'running';
    }, 'postgres to be restarted');
    assert.equal(await sh(sandbox, `psql "$DATABASE_URL" -tAc 'select 1'`, services.env), '1');
  });

  it('stops what it started when the start is aborted', async () => {
    const { sandbox, context } = await workspace();
    const abort = new AbortController();
    const started = supervisor.start([service('postgres'), service('redis')], {
      ...context,
      signal: abort.signal,
      onLog: (name, line) => {
        if (name === 'postgres' && line.includes('starting PostgreSQL'))
          abort.abort(new Error('user gave up'));
      },
    });
    await assert.rejects(started, /user gave up/);
    assert.deepEqual(await processesIn(sandbox), []);
  });

  it('stops every service process, the log writers included', async () => {
    const { sandbox, context } = await workspace();
    const services = await start([service('postgres'), service('redis'), service('memcached')], context);
    assert.notDeepEqual(await processesIn(sandbox), []);
    await services.stop();
    assert.deepEqual(await processesIn(sandbox), []);
    assert.deepEqual(
      services.statuses.map((s) => s.status),
      ['stopped', 'stopped', 'stopped'],
    );
  });

  /** The host pid of the process that has `innerPid` in the sandbox's pid namespace. */
  async function hostPidOf(sandbox: RuntimeSandbox, innerPid: number): Promise<number> {
    const namespace = await pidNamespaceOf(sandbox.pid!);
    for (const pid of await pidsInNamespace(namespace!)) {
      const status = await readFile(`/proc/${pid}/status`, 'utf8').catch(() => '');
      const nsPids = /^NSpid:\s+(.*)$/m.exec(status)?.[1]?.split(/\s+/);
      if (nsPids?.at(-1) === String(innerPid)) return pid;
    }
    throw new Error(`no host process for pid ${innerPid} in sandbox ${sandbox.id}`);
  }
});

async function waitFor(condition: () => boolean, what: string, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
