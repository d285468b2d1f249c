// MySQL and MariaDB (Debian ships MariaDB for both; its server is `mariadbd`). Runs as the `mysql`
// account through a user namespace, root without a password on loopback and the socket.
// Written against MariaDB 10.11's documented options; this host's CI has no MariaDB, so only the
// missing-binary path is exercised by the tests.
import { join } from 'node:path';
import { NixSpaceError } from '../../../errors.js';
import { execInSandbox } from '../../../runtime/sandbox-exec.js';
import type { BackingService, ServiceInstance } from './backing-service.js';

const socket = (instance: ServiceInstance) => join(instance.serviceDir, 'run', 'mysqld.sock');

function client(instance: ServiceInstance, program: string): string[] {
  return [
    join(instance.binDir, program),
    '--no-defaults',
    '-h',
    '127.0.0.1',
    '-P',
    String(instance.port),
    '-u',
    'root',
  ];
}

export const mysql: BackingService = {
  name: 'mysql',
  defaultPort: 3306,
  debianPackage: 'mariadb-server',
  program: 'mariadbd',
  hostBinDirs: async () => ['/usr/local/sbin', '/usr/sbin', '/usr/local/bin', '/usr/bin'],
  versionArgs: ['--version'],
  parseVersion: (output) => /Ver\s+(\d+(?:\.\d+)*)/.exec(output)?.[1],
  // MariaDB upgrades data in place within a series (10.x), not across one.
  dataVersion: (version) => version.split('.').slice(0, 2).join('.'),
  accounts: ['mysql'],
  stopSignal: 'SIGTERM',

  async init(instance) {
    const { sandbox, dataDir, account, signal } = instance;
    const user = account === undefined ? undefined : { uid: account.uid, gid: account.gid };
    await execInSandbox(sandbox, ['mkdir', '-p', '-m', '700', join(instance.serviceDir, 'run')], { signal });
    if ((await execInSandbox(sandbox, ['test', '-d', join(dataDir, 'mysql')], { signal })).code === 0) return;
    const installDb = join(instance.binDir, '..', 'bin', 'mariadb-install-db');
    const result = await execInSandbox(
      sandbox,
      [
        installDb,
        '--no-defaults',
        `--datadir=${dataDir}`,
        '--auth-root-authentication-method=normal',
        '--skip-test-db',
      ],
      { user, signal },
    );
    if (result.code !== 0) {
      throw new NixSpaceError('SANDBOX_FAILED', 'mysql: mariadb-install-db failed', {
        detail: (result.stderr || result.stdout).trim(),
      });
    }
  },

  argv(instance) {
    return [
      join(instance.binDir, 'mariadbd'),
      '--no-defaults',
      `--datadir=${instance.dataDir}`,
      `--port=${instance.port}`,
      '--bind-address=127.0.0.1',
      `--socket=${socket(instance)}`,
      `--pid-file=${join(instance.serviceDir, 'run', 'mysqld.pid')}`,
    ];
  },

  readyProbe: (instance) => [...client(instance, '../bin/mariadb-admin'), 'ping'],

  async afterReady(instance) {
    const sql = `create database if not exists \`${instance.database}\``;
    const result = await execInSandbox(instance.sandbox, [...client(instance, '../bin/mariadb'), '-e', sql], {
      signal: instance.signal,
    });
    if (result.code !== 0) {
      throw new NixSpaceError('SANDBOX_FAILED', `mysql: cannot create database ${instance.database}`, {
        detail: result.stderr.trim(),
      });
    }
  },

  exports(instance) {
    const port = String(instance.port);
    return {
      DATABASE_URL: `mysql://root@127.0.0.1:${port}/${instance.database}`,
      MYSQL_HOST: '127.0.0.1',
      MYSQL_TCP_PORT: port,
      MYSQL_USER: 'root',
      MYSQL_DATABASE: instance.database,
    };
  },
};
