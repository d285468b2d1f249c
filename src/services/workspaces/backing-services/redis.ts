// Redis: append-only persistence under the service dir, no RDB snapshots, loopback only.
import { join } from 'node:path';
import { type BackingService, majorVersion } from './backing-service.js';

export const redis: BackingService = {
  name: 'redis',
  defaultPort: 6379,
  debianPackage: 'redis-server',
  program: 'redis-server',
  hostBinDirs: async () => ['/usr/local/bin', '/usr/bin'],
  versionArgs: ['--version'],
  parseVersion: (output) => /\bv=(\d+(?:\.\d+)*)/.exec(output)?.[1],
  dataVersion: majorVersion,
  stopSignal: 'SIGTERM',

  argv(instance) {
    return [
      join(instance.binDir, 'redis-server'),
      '--dir',
      instance.dataDir,
      '--port',
      String(instance.port),
      '--bind',
      '127.0.0.1',
      '--save',
      '',
      '--appendonly',
      'yes',
      '--daemonize',
      'no',
    ];
  },

  readyProbe(instance) {
    // While loading its append-only file redis answers LOADING, not PONG, and is not ready yet.
    const cli = join(instance.binDir, 'redis-cli');
    return [
      'sh',
      '-c',
      '[ "$("$0" -h 127.0.0.1 -p "$1" ping 2>/dev/null)" = PONG ]',
      cli,
      String(instance.port),
    ];
  },

  exports(instance) {
    return { REDIS_URL: `redis://127.0.0.1:${instance.port}` };
  },
};
