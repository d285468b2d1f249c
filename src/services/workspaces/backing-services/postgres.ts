// PostgreSQL: a cluster per workspace and major version, trust auth on loopback and the socket
// (only the sandbox can reach either under network 'none'). Postgres refuses to run as root, so it
// runs as the `postgres` account through a user namespace: no chown, no host privilege.
import { join } from 'node:path';
import { NixSpaceError } from '../../../errors.js';
import { execInSandbox } from '../../../runtime/sandbox-exec.js';
import { type BackingService, majorVersion, type ServiceInstance } from './backing-service.js';
import { versionedBinDirs } from './locate-binaries.js';

/** The superuser initdb creates; PGUSER names it, so clients need no -U. */
export const postgresUser = 'postgres';

// The kernel limits a socket path to 108 bytes; postgres appends `/.s.PGSQL.<port>.lock`.
const maxSocketDir = 107 - '/.s.PGSQL.65535.lock'.length;

/** The socket directory: under the service dir, or the sandbox's /tmp when that path is too long. */
export function postgresSocketDir(instance: ServiceInstance): string {
  const dir = join(instance.serviceDir, 'run');
  return Buffer.byteLength(dir) <= maxSocketDir ? dir : '/tmp';
}

export const postgres: BackingService = {
  name: 'postgres',
  defaultPort: 5432,
  debianPackage: 'postgresql',
  program: 'postgres',
  hostBinDirs: () => versionedBinDirs('/usr/lib/postgresql'),
  versionArgs: ['--version'],
  parseVersion: (output) => /PostgreSQL\)?\s+(\d+(?:\.\d+)*)/.exec(output)?.[1],
  // Before 10 the major version had two parts (9.6).
  dataVersion: (version) =>
    Number(majorVersion(version)) >= 10 ? majorVersion(version) : version.split('.').slice(0, 2).join('.'),
  accounts: ['postgres'],
  stopSignal: 'SIGINT',

  async init(instance) {
    const { sandbox, dataDir, account, signal } = instance;
    const user = account === undefined ? undefined : { uid: account.uid, gid: account.gid };
    const made = await execInSandbox(sandbox, ['mkdir', '-p', '-m', '700', postgresSocketDir(instance)], {
      signal,
    });
    if (made.code !== 0) throw initFailed('cannot create the socket directory', made.stderr);
    if ((await execInSandbox(sandbox, ['test', '-f', join(dataDir, 'PG_VERSION')], { signal })).code === 0) {
      return;
    }
    const initdb = [join(instance.binDir, 'initdb'), '-D', dataDir, '-U', postgresUser, '-A', 'trust'];
    const result = await execInSandbox(sandbox, [...initdb, '-E', 'UTF8'], { user, signal });
    if (result.code !== 0) throw initFailed('initdb failed', result.stderr || result.stdout);
  },

  argv(instance) {
    return [
      join(instance.binDir, 'postgres'),
      '-D',
      instance.dataDir,
      '-p',
      String(instance.port),
      '-k',
      postgresSocketDir(instance),
      '-c',
      'listen_addresses=127.0.0.1',
    ];
  },

  readyProbe(instance) {
    const isReady = join(instance.binDir, 'pg_isready');
    // -U: otherwise it connects as root, and the server logs a missing role on every probe.
    const port = String(instance.port);
    return [isReady, '-q', '-h', '127.0.0.1', '-p', port, '-U', postgresUser, '-d', 'postgres', '-t', '2'];
  },

  async afterReady(instance) {
    const { sandbox, database, signal } = instance;
    const psql = [
      join(instance.binDir, 'psql'),
      '-X',
      '-q',
      '-h',
      postgresSocketDir(instance),
      '-p',
      String(instance.port),
      '-U',
      postgresUser,
      '-d',
      'postgres',
      '-v',
      'ON_ERROR_STOP=1',
      '-tA',
    ];
    const exists = await execInSandbox(
      sandbox,
      [...psql, '-c', `select 1 from pg_database where datname = '${database}'`],
      { signal },
    );
    if (exists.code !== 0) throw initFailed('cannot list databases', exists.stderr);
    if (exists.stdout.trim() === '1') return;
    const created = await execInSandbox(sandbox, [...psql, '-c', `create database "${database}"`], {
      signal,
    });
    if (created.code !== 0) throw initFailed(`cannot create database ${database}`, created.stderr);
  },

  exports(instance) {
    const port = String(instance.port);
    return {
      DATABASE_URL: `postgresql://${postgresUser}@127.0.0.1:${port}/${instance.database}`,
      PGHOST: '127.0.0.1',
      PGPORT: port,
      PGUSER: postgresUser,
      PGDATABASE: instance.database,
    };
  },
};

function initFailed(message: string, detail: string): NixSpaceError {
  return new NixSpaceError('SANDBOX_FAILED', `postgres: ${message}`, { detail: detail.trim() });
}
