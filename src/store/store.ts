// Opens the database: embedded PGlite in the data directory by default, PostgreSQL when a URL is
// given. Both run the same migrations and the same queries.

import { mkdir } from 'node:fs/promises';
import { PGlite } from '@electric-sql/pglite';
import { Kysely, PostgresDialect, type Transaction } from 'kysely';
import pg from 'pg';
import { migrate } from './migrations.js';
import { PgliteDialect } from './pglite-dialect.js';
import type { Database } from './schema.js';

export type StoreBackend = 'pglite' | 'postgres';

export interface StoreOptions {
  /** PostgreSQL connection string; when absent, PGlite is used. */
  databaseUrl?: string | undefined;
  /** Directory for PGlite's files; `memory://` for an in-memory database. */
  pgliteDir?: string | undefined;
}

export class Store {
  private constructor(
    readonly db: Kysely<Database>,
    readonly backend: StoreBackend,
  ) {}

  static async open(options: StoreOptions): Promise<Store> {
    let store: Store;
    if (options.databaseUrl) {
      const pool = new pg.Pool({ connectionString: options.databaseUrl, max: 10 });
      // An idle connection dropped by the server (restart, failover) must not crash NixSpace: the
      // pool discards it, and the next query opens a new one or reports the outage.
      pool.on('error', () => {});
      store = new Store(new Kysely<Database>({ dialect: new PostgresDialect({ pool }) }), 'postgres');
    } else {
      const dir = options.pgliteDir ?? 'memory://';
      if (!dir.startsWith('memory://')) await mkdir(dir, { recursive: true });
      // Postgres's default 128 MB of shared buffers would be most of an idle server's memory;
      // one embedded user needs far less.
      const pglite = await PGlite.create(dir, {
        postgresqlconf: ['shared_buffers = 16MB', 'work_mem = 4MB'],
      });
      store = new Store(new Kysely<Database>({ dialect: new PgliteDialect(pglite) }), 'pglite');
    }
    try {
      await migrate(store.db);
    } catch (error) {
      await store.close();
      throw error;
    }
    return store;
  }

  inTx<T>(fn: (tx: Transaction<Database>) => Promise<T>): Promise<T> {
    return this.db.transaction().execute(fn);
  }

  async close(): Promise<void> {
    await this.db.destroy();
  }
}
