// Memcached: nothing to persist. It refuses to run as root without -u (which needs setuid), so it
// runs as the `memcache` account through a user namespace, like postgres.
import { join } from 'node:path';
import { type BackingService, majorVersion } from './backing-service.js';
import { tcpProbe } from './tcp-probe.js';

export const memcached: BackingService = {
  name: 'memcached',
  defaultPort: 11211,
  debianPackage: 'memcached',
  program: 'memcached',
  hostBinDirs: async () => ['/usr/local/bin', '/usr/bin'],
  versionArgs: ['-V'],
  parseVersion: (output) => /memcached\s+(\d+(?:\.\d+)*)/.exec(output)?.[1],
  dataVersion: majorVersion,
  accounts: ['memcache'],
  stopSignal: 'SIGTERM',

  argv(instance) {
    const port = String(instance.port);
    return [join(instance.binDir, 'memcached'), '-l', '127.0.0.1', '-p', port, '-U', '0', '-m', '64'];
  },

  readyProbe: (instance) => tcpProbe(instance.port),

  exports(instance) {
    const address = `127.0.0.1:${instance.port}`;
    return { MEMCACHED_URL: `memcached://${address}`, MEMCACHE_SERVERS: address };
  },
};
