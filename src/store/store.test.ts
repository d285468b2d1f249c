import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { sql } from 'kysely';
import { testDatabases } from '../../test/support/databases.js';
import { migrate, migrations } from './migrations.js';

for (const backend of testDatabases) {
  describe(`store on ${backend.name}`, { skip: backend.skip }, () => {
    it('applies every migration once and records it', async () => {
      await using t = await backend.open();
      const rows = await sql<{
        version: number;
      }>`SELECT version FROM schema_migrations ORDER BY version`.execute(t.store.db);
      assert.deepEqual(
        rows.rows.map((r) => r.version),
        migrations.map((m) => m.version),
      );
      assert.deepEqual(await migrate(t.store.db), [], 'a second run applies nothing');
    });

    it('rolls a transaction back when its function throws', async () => {
      await using t = await backend.open();
      await assert.rejects(
        t.store.inTx(async (tx) => {
          await tx
            .insertInto('users')
            .values({ id: crypto.randomUUID(), email: 'a@x.test', role: 'owner' })
            .execute();
          throw new Error('boom');
        }),
        /boom/,
      );
      const users = await t.store.db.selectFrom('users').selectAll().execute();
      assert.equal(users.length, 0);
    });

    it('round-trips jsonb and timestamps in a non-UTC time zone', async () => {
      await using t = await backend.open();
      const owner = crypto.randomUUID();
      await t.store.db.insertInto('users').values({ id: owner, email: 'o@x.test', role: 'owner' }).execute();
      const at = new Date('2026-03-01T12:34:56.789Z');
      const steps = [
        {
          name: 'resolve',
          status: 'done',
          startedAt: at.toISOString(),
          finishedAt: null,
          durationMs: 3,
          detail: 'é ✓',
        },
      ];
      await t.store.db
        .insertInto('workspaces')
        .values({
          id: crypto.randomUUID(),
          owner_id: owner,
          name: 'demo',
          repo_url: 'https://example.test/a/b',
          ref: null,
          commit_id: null,
          branch: null,
          status: 'pending',
          error: null,
          steps: JSON.stringify(steps),
          sandbox: null,
          updated_at: at,
        })
        .execute();
      const row = await t.store.db.selectFrom('workspaces').selectAll().executeTakeFirstOrThrow();
      assert.deepEqual(row.steps, steps);
      assert.equal(row.updated_at.toISOString(), at.toISOString());
    });

    it('serialises concurrent transactions without losing writes', async () => {
      await using t = await backend.open();
      await Promise.all(
        Array.from({ length: 20 }, (_, i) =>
          t.store.inTx(async (tx) => {
            await tx
              .insertInto('users')
              .values({ id: crypto.randomUUID(), email: `u${i}@x.test`, role: 'member' })
              .execute();
          }),
        ),
      );
      const count = await t.store.db
        .selectFrom('users')
        .select((eb) => eb.fn.countAll<string>().as('n'))
        .executeTakeFirstOrThrow();
      assert.equal(Number(count.n), 20);
    });
  });
}
