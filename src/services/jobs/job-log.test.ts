import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { sql } from 'kysely';
import pino from 'pino';
import { testDatabases } from '../../../test/support/databases.js';
import { insertJob, readJobEvents } from '../../store/job-queries.js';
import type { Store } from '../../store/store.js';
import { JobLog, type JobLogLimits, readStoredEvents } from './job-log.js';

const logger = pino({ level: 'silent' });

async function newJob(store: Store): Promise<string> {
  const userId = crypto.randomUUID();
  await store.db
    .insertInto('users')
    .values({ id: userId, email: `${userId}@x.test`, role: 'member' })
    .execute();
  const id = crypto.randomUUID();
  await insertJob(store.db, {
    id,
    command: 'true',
    type: 'stream',
    ownerId: userId,
    workspaceId: null,
    sshHostId: null,
    targetLabel: 'test',
    cwd: null,
  });
  return id;
}

async function stored(store: Store, jobId: string) {
  return readJobEvents(store.db, jobId, { fromOffset: 0, limit: 100_000 });
}

/** Makes the next `n` inserts of ordinary output events fail, as a flaky database would. */
async function failNextWrites(store: Store, n: number): Promise<void> {
  // A sequence, unlike a table, keeps counting when the failing statement rolls back.
  await sql
    .raw(`
    DROP SEQUENCE IF EXISTS write_attempts;
    CREATE SEQUENCE write_attempts;
    CREATE OR REPLACE FUNCTION fail_job_event_writes() RETURNS trigger AS $$
    BEGIN
      IF NOT NEW.error AND nextval('write_attempts') <= ${n} THEN
        RAISE EXCEPTION 'disk full (injected)';
      END IF;
      RETURN NEW;
    END $$ LANGUAGE plpgsql;
    DROP TRIGGER IF EXISTS fail_job_event_writes ON job_events;
    CREATE TRIGGER fail_job_event_writes BEFORE INSERT ON job_events
      FOR EACH ROW EXECUTE FUNCTION fail_job_event_writes();
  `)
    .execute(store.db);
}

const roomy: JobLogLimits = { headBytes: 1024 * 1024, tailBytes: 1024 * 1024 };

for (const backend of testDatabases) {
  describe(`job output log on ${backend.name}`, { skip: backend.skip }, () => {
    it('stores chunks at byte offsets that follow each other across streams', async () => {
      await using t = await backend.open();
      const id = await newJob(t.store);
      const log = new JobLog(id, { store: t.store, limits: roomy, logger });
      log.startWriting();
      log.append('stdout', Buffer.from('héllo\n'));
      log.append('stderr', Buffer.from('oops\n'));
      log.system('done');
      await log.finish();
      const events = await stored(t.store, id);
      assert.deepEqual(
        events.map((e) => [e.stream, e.chunk, e.offset]),
        [
          ['stdout', 'héllo\n', 0],
          ['stderr', 'oops\n', 7],
          ['system', 'done\n', 12],
        ],
      );
      assert.equal(log.end, 17);
    });

    it('never splits a multi-byte character between chunks', async () => {
      await using t = await backend.open();
      const id = await newJob(t.store);
      const log = new JobLog(id, { store: t.store, limits: roomy, logger });
      log.startWriting();
      const bytes = Buffer.from('€uro ✓\n');
      log.append('stdout', bytes.subarray(0, 1));
      log.append('stdout', bytes.subarray(1, 8));
      log.append('stdout', bytes.subarray(8));
      await log.finish();
      const text = (await stored(t.store, id)).map((e) => e.chunk).join('');
      assert.equal(text, '€uro ✓\n');
      assert.equal(log.end, bytes.length);
    });

    it('reads from any offset with no gap and no duplicate while writes are in flight', async () => {
      await using t = await backend.open();
      const id = await newJob(t.store);
      const log = new JobLog(id, { store: t.store, limits: roomy, logger });
      log.startWriting();
      let expected = '';
      for (let i = 0; i < 2000; i++) {
        const line = `line ${i} ${'.'.repeat(i % 50)}\n`;
        expected += line;
        log.append(i % 3 === 0 ? 'stderr' : 'stdout', Buffer.from(line));
        if (i % 200 === 0) await new Promise((r) => setTimeout(r, 5));
      }
      for (const from of [0, 1, 777, 20_000, Buffer.byteLength(expected) - 3]) {
        let next = from;
        let text = '';
        for (;;) {
          const events = await log.readFrom(next, 4096);
          if (events.length === 0) break;
          for (const e of events) {
            assert.equal(e.offset, next, 'each event starts where the last ended');
            text += e.chunk;
            next += e.bytes;
          }
        }
        assert.equal(text, Buffer.from(expected).subarray(from).toString());
      }
      await log.finish();
    });

    it('keeps the head and the tail past the size limit and says what was cut', async () => {
      await using t = await backend.open();
      const id = await newJob(t.store);
      const limits = { headBytes: 10_000, tailBytes: 10_000 };
      const log = new JobLog(id, { store: t.store, limits, logger });
      log.startWriting();
      let all = '';
      for (let i = 0; i < 40_000; i++) {
        const line = `${i}\n`;
        all += line;
        log.append('stdout', Buffer.from(line));
      }
      await log.finish();
      const events = await stored(t.store, id);
      const output = events
        .filter((e) => e.stream === 'stdout')
        .map((e) => e.chunk)
        .join('');
      const notes = events
        .filter((e) => e.stream === 'system')
        .map((e) => e.chunk)
        .join('');
      assert.ok(output.startsWith(all.slice(0, 10_000)), 'the head is kept');
      assert.ok(output.endsWith(all.slice(-9_000)), 'the tail is kept');
      assert.ok(
        Buffer.byteLength(output) < 60_000,
        `most of the middle is gone (${Buffer.byteLength(output)} bytes kept)`,
      );
      assert.match(notes, /output passed 9\.8 KiB/);
      assert.match(notes, /output cut: .* from offset \d+ to \d+ are not kept/);
      assert.ok(log.cutBytes > 150_000);
    });

    it('retries a failed write and stores the output', async () => {
      await using t = await backend.open();
      const id = await newJob(t.store);
      await failNextWrites(t.store, 2);
      const log = new JobLog(id, { store: t.store, limits: roomy, logger, retryDelayMs: 5 });
      log.startWriting();
      log.append('stdout', Buffer.from('survives two failures\n'));
      await log.finish();
      const events = await stored(t.store, id);
      assert.equal(events.map((e) => e.chunk).join(''), 'survives two failures\n');
      const attempts = await sql<{ n: string }>`SELECT last_value AS n FROM write_attempts`.execute(
        t.store.db,
      );
      assert.equal(Number(attempts.rows[0]!.n), 3, 'two failed attempts, then one that worked');
      assert.ok(events.every((e) => !e.error));
    });

    it('marks the output as an error event after three failed writes', async () => {
      await using t = await backend.open();
      const id = await newJob(t.store);
      await failNextWrites(t.store, 3);
      const log = new JobLog(id, { store: t.store, limits: roomy, logger, retryDelayMs: 5 });
      const live: string[] = [];
      log.onEvent((e) => live.push(e.chunk));
      log.startWriting();
      log.append('stdout', Buffer.from('lost in the store\n'));
      await log.flush();
      log.append('stdout', Buffer.from('stored later\n'));
      await log.finish();
      const events = await stored(t.store, id);
      assert.equal(events.length, 2);
      assert.equal(events[0]!.error, true);
      assert.match(
        events[0]!.chunk,
        /18 B of output \(offsets 0–18\) could not be stored after 3 attempts: disk full/,
      );
      assert.equal(events[1]!.chunk, 'stored later\n');
      assert.equal(events[1]!.offset, 18);
      assert.deepEqual(live, ['lost in the store\n', 'stored later\n'], 'live viewers still got everything');
    });

    // Regression: an error event counted its message's length as the bytes it stood for, so a
    // reader paging from the store past it skipped the output after a short lost range.
    it('lets a reader page past an error event to exactly the output after the lost range', async () => {
      await using t = await backend.open();
      const id = await newJob(t.store);
      await failNextWrites(t.store, 3);
      const log = new JobLog(id, { store: t.store, limits: roomy, logger, retryDelayMs: 5 });
      log.startWriting();
      log.append('stdout', Buffer.from('ab\n'));
      await log.flush();
      log.append('stdout', Buffer.from('after the gap\n'));
      await log.finish();
      const first = await readStoredEvents(t.store, id, 0, undefined, 1);
      const lost = first.events[0]!;
      assert.equal(lost.error, true);
      assert.equal(lost.bytes, 3, 'it stands for the 3 lost bytes, not its message');
      assert.ok(Buffer.byteLength(lost.chunk) > 3);
      const next = await readStoredEvents(t.store, id, lost.offset + lost.bytes, undefined, 1024);
      assert.deepEqual(
        next.events.map((e) => [e.offset, e.chunk]),
        [[3, 'after the gap\n']],
      );
    });
  });
}
