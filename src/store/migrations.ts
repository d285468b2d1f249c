// Numbered schema migrations, applied in order under an advisory lock so that two servers
// starting against one PostgreSQL never race. A landed migration is never edited.

import { type Kysely, sql } from 'kysely';
import { sql as m0001 } from './migrations/0001-init.js';
import { sql as m0002 } from './migrations/0002-environments.js';
import { sql as m0003 } from './migrations/0003-jobs.js';
import { sql as m0004 } from './migrations/0004-switching.js';
import { sql as m0005 } from './migrations/0005-environment-versions.js';
import { sql as m0006 } from './migrations/0006-share-links.js';
import { sql as m0007 } from './migrations/0007-environment-changes.js';
import { sql as m0008 } from './migrations/0008-job-event-coverage.js';
import { sql as m0009 } from './migrations/0009-session-ids.js';
import { sql as m0011 } from './migrations/0011-repo-url-credentials.js';
import { sql as m0012 } from './migrations/0012-job-resume.js';
import { sql as m0013 } from './migrations/0013-lifetime.js';
import { sql as m0014 } from './migrations/0014-workspace-driver.js';

export interface Migration {
  version: number;
  name: string;
  sql: string;
}

export const migrations: readonly Migration[] = [
  { version: 1, name: 'init', sql: m0001 },
  { version: 2, name: 'environments', sql: m0002 },
  { version: 3, name: 'jobs', sql: m0003 },
  { version: 4, name: 'switching', sql: m0004 },
  { version: 5, name: 'environment-versions', sql: m0005 },
  { version: 6, name: 'share-links', sql: m0006 },
  { version: 7, name: 'environment-changes', sql: m0007 },
  { version: 8, name: 'job-event-coverage', sql: m0008 },
  { version: 9, name: 'session-ids', sql: m0009 },
  { version: 11, name: 'repo-url-credentials', sql: m0011 },
  { version: 12, name: 'job-resume', sql: m0012 },
  { version: 13, name: 'lifetime', sql: m0013 },
  { version: 14, name: 'workspace-driver', sql: m0014 },
];

const LOCK_KEY = 0x6e69_7873; // "nixs"

// biome-ignore lint/suspicious/noExplicitAny: runs before the typed schema exists.
export async function migrate(db: Kysely<any>): Promise<number[]> {
  return db.connection().execute(async (conn) => {
    await sql`SELECT pg_advisory_lock(${LOCK_KEY})`.execute(conn);
    try {
      await sql`CREATE TABLE IF NOT EXISTS schema_migrations (
        version integer PRIMARY KEY,
        name text NOT NULL,
        applied_at timestamptz NOT NULL DEFAULT now()
      )`.execute(conn);
      const done = await sql<{ version: number }>`SELECT version FROM schema_migrations`.execute(conn);
      const applied = new Set(done.rows.map((row) => row.version));
      const ran: number[] = [];
      for (const migration of migrations) {
        if (applied.has(migration.version)) continue;
        await conn.transaction().execute(async (tx) => {
          await sql.raw(migration.sql).execute(tx);
          await sql`INSERT INTO schema_migrations (version, name) VALUES (${migration.version}, ${migration.name})`.execute(
            tx,
          );
        });
        ran.push(migration.version);
      }
      return ran;
    } finally {
      await sql`SELECT pg_advisory_unlock(${LOCK_KEY})`.execute(conn);
    }
  });
}
