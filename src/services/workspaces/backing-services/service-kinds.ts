// The kinds of backing service NixSpace can run, by the names the EnvSpec uses for them.
import type { BackingService } from './backing-service.js';
import { memcached } from './memcached.js';
import { mysql } from './mysql.js';
import { postgres } from './postgres.js';
import { redis } from './redis.js';

export const backingServices: ReadonlyMap<string, BackingService> = new Map([
  ['postgres', postgres],
  ['postgresql', postgres],
  ['redis', redis],
  ['memcached', memcached],
  // Debian's mysql is MariaDB: one definition serves both names.
  ['mysql', mysql],
  ['mariadb', mysql],
]);

/** A database name safe to put in SQL and URLs unquoted: `My-App.v2` → `my_app_v2`. */
export function databaseName(name: string | undefined): string {
  const cleaned = (name ?? '')
    .toLowerCase()
    .replace(/[^a-z0-9_]+/g, '_')
    .replace(/^_+|_+$/g, '')
    .slice(0, 63);
  if (cleaned === '') return 'app';
  return /^[0-9]/.test(cleaned) ? `_${cleaned}`.slice(0, 63) : cleaned;
}
