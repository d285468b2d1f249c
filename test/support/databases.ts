// The database backends every store-touching suite runs against: PGlite, and a real PostgreSQL
// when NIXSPACE_TEST_DATABASE_URL names one (scripts/run-tests.mjs starts a throwaway cluster).

import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { Store } from '../../src/store/store.js';

export interface TestDatabase {
  name: 'pglite' | 'postgres';
  /** Why this backend is skipped, when it is. */
  skip: string | false;
  /** Opens a fresh, migrated, empty store; dispose with `close()`. */
  open(): Promise<TestStore>;
}

export interface TestStore {
  store: Store;
  databaseUrl: string | undefined;
  close(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

const adminUrl = process.env.NIXSPACE_TEST_DATABASE_URL;

export const testDatabases: readonly TestDatabase[] = [
  {
    name: 'pglite',
    skip: false,
    async open() {
      const store = await Store.open({ pgliteDir: 'memory://' });
      const close = () => store.close();
      return { store, databaseUrl: undefined, close, [Symbol.asyncDispose]: close };
    },
  },
  {
    name: 'postgres',
    skip: adminUrl ? false : 'NIXSPACE_TEST_DATABASE_URL is not set and no PostgreSQL could be started',
    async open() {
      const { url, drop } = await createDatabase(adminUrl!);
      const store = await Store.open({ databaseUrl: url });
      const close = async () => {
        await store.close();
        await drop();
      };
      return { store, databaseUrl: url, close, [Symbol.asyncDispose]: close };
    },
  },
];

/** Creates an empty database on the test cluster; `drop()` removes it. */
export async function createDatabase(admin: string): Promise<{ url: string; drop(): Promise<void> }> {
  const name = `nixspace_test_${randomBytes(6).toString('hex')}`;
  const client = new pg.Client({ connectionString: admin });
  await client.connect();
  try {
    await client.query(`CREATE DATABASE ${name}`);
  } finally {
    await client.end();
  }
  const url = new URL(admin);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    async drop() {
      const c = new pg.Client({ connectionString: admin });
      await c.connect();
      try {
        await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      } finally {
        await c.end();
      }
    },
  };
}
