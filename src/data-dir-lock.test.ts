import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { acquireDataDirLock, dataDirLockPath } from './data-dir-lock.js';

describe('data directory lock', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'nixspace-lock-'));
  });
  after(() => rm(dir, { recursive: true, force: true }));

  it('goes to exactly one of many servers that ask at once', async () => {
    const results = await Promise.allSettled(Array.from({ length: 8 }, () => acquireDataDirLock(dir)));
    const won = results.filter((r) => r.status === 'fulfilled');
    assert.equal(won.length, 1, JSON.stringify(results.map((r) => r.status)));
    for (const r of results) {
      if (r.status === 'rejected') assert.match(String(r.reason), /Another NixSpace server is using/);
    }
    await (won[0] as PromiseFulfilledResult<Awaited<ReturnType<typeof acquireDataDirLock>>>).value.release();
  });

  it('names where the holder listens once it says, and is free again after release', async () => {
    const lock = await acquireDataDirLock(dir);
    await lock.setUrl('http://127.0.0.1:4321');
    const holder = JSON.parse(await readFile(dataDirLockPath(dir), 'utf8')) as { url: string; pid: number };
    assert.deepEqual([holder.url, holder.pid], ['http://127.0.0.1:4321', process.pid]);
    await assert.rejects(
      acquireDataDirLock(dir),
      /pid \d+, listening on http:\/\/127\.0\.0\.1:4321, started /,
    );
    await lock.release();
    const again = await acquireDataDirLock(dir);
    await again.release();
  });
});
