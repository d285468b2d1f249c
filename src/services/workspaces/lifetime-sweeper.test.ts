// The sweeper over a real (in-memory) database with an injected clock: which workspaces it asks to
// delete or hibernate, and that it decides again when the service asks under the workspace's lock.

import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import pino from 'pino';
import { insertUser } from '../../store/access-queries.js';
import type { WorkspaceRow, WorkspaceStatus } from '../../store/schema.js';
import { Store } from '../../store/store.js';
import { insertWorkspace, updateWorkspace } from '../../store/workspace-queries.js';
import { IdleTracker } from './idle-tracker.js';
import type { LifetimeSettings } from './lifetime.js';
import { LifetimeSweeper, type LimitedWorkspaces } from './lifetime-sweeper.js';
import { pendingSteps } from './workspace-view.js';

const MINUTE = 60_000;
const settings: LifetimeSettings = {
  lifetimeMs: 60 * MINUTE,
  warningMs: 10 * MINUTE,
  idleTimeoutMs: 5 * MINUTE,
};

/** Does what it is asked when the sweeper's decision, taken again on the fresh row, still holds. */
class Recorder implements LimitedWorkspaces {
  expired: string[] = [];
  hibernated: string[] = [];
  /** Something that happens between the sweeper's look and the service's lock (a keep, a terminal). */
  meanwhile: (id: string) => Promise<void> = async () => {};

  constructor(private readonly store: Store) {}

  async expire(id: string, decide: (row: WorkspaceRow) => boolean): Promise<boolean> {
    return this.act(id, decide, this.expired, 'deleted');
  }

  async hibernate(id: string, decide: (row: WorkspaceRow) => boolean): Promise<boolean> {
    return this.act(id, decide, this.hibernated, 'hibernated');
  }

  private async act(
    id: string,
    decide: (row: WorkspaceRow) => boolean,
    into: string[],
    status: WorkspaceStatus,
  ) {
    await this.meanwhile(id);
    const row = await this.store.db
      .selectFrom('workspaces')
      .selectAll()
      .where('id', '=', id)
      .executeTakeFirstOrThrow();
    if (!decide(row)) return false;
    await updateWorkspace(this.store.db, id, { status });
    into.push(id);
    return true;
  }
}

describe('LifetimeSweeper', () => {
  let store: Store;
  let owner: string;
  let now: number;
  let idle: IdleTracker;
  let workspaces: Recorder;
  let sweeper: LifetimeSweeper;
  const clock = () => new Date(now);

  beforeEach(async () => {
    store = await Store.open({ pgliteDir: 'memory://' });
    owner = (await insertUser(store.db, { id: crypto.randomUUID(), email: 'o@x.test', role: 'owner' })).id;
    now = Date.parse('2026-01-01T10:00:00Z');
    idle = new IdleTracker(() => now);
    workspaces = new Recorder(store);
    sweeper = new LifetimeSweeper({
      store,
      workspaces,
      idle,
      settings,
      logger: pino({ level: 'silent' }),
      now: clock,
    });
  });

  afterEach(async () => {
    await sweeper.stop();
    await store.close();
  });

  async function workspace(status: WorkspaceStatus, expiresAt: Date | null): Promise<string> {
    const row = await insertWorkspace(store.db, {
      id: crypto.randomUUID(),
      ownerId: owner,
      name: 'app',
      repoUrl: 'https://example.test/app.git',
      ref: null,
      steps: pendingSteps(),
      createdAt: clock(),
      expiresAt,
    });
    // Its last change happened now by the injected clock (the idle clock starts there).
    await store.db
      .updateTable('workspaces')
      .set({ status, updated_at: clock() })
      .where('id', '=', row.id)
      .execute();
    return row.id;
  }

  it('deletes what is at rest past its deadline, leaving the rest, a kept one and one being made', async () => {
    const deadline = new Date(now + 60 * MINUTE);
    const running = await workspace('running', deadline);
    const stopped = await workspace('stopped', deadline);
    const building = await workspace('building', deadline);
    const kept = await workspace('running', null);
    const later = await workspace('running', new Date(now + 90 * MINUTE));
    idle.open(running, 'terminal');
    idle.open(kept, 'terminal');
    idle.open(later, 'terminal');

    now += 59 * MINUTE;
    assert.deepEqual((await sweeper.sweep()).expired, []);
    now += MINUTE;
    const { expired } = await sweeper.sweep();
    assert.deepEqual(expired.sort(), [running, stopped].sort(), 'in use or not, at the deadline it goes');
    assert.ok(!expired.includes(building) && !expired.includes(kept) && !expired.includes(later));
  });

  it('does not delete a workspace kept between its look and the lock', async () => {
    await workspace('stopped', new Date(now + 60 * MINUTE));
    workspaces.meanwhile = async (target) => {
      await updateWorkspace(store.db, target, { expiresAt: null, keptAt: clock() });
    };
    now += 61 * MINUTE;
    assert.deepEqual((await sweeper.sweep()).expired, []);
    assert.deepEqual(workspaces.expired, []);
  });

  it('hibernates a running workspace idle for the timeout, and none with something open', async () => {
    const quiet = await workspace('running', null);
    const busy = await workspace('running', null);
    const stopped = await workspace('stopped', null);
    const closeTerminal = idle.open(busy, 'terminal');

    now += 4 * MINUTE;
    assert.deepEqual((await sweeper.sweep()).hibernated, []);
    now += MINUTE;
    assert.deepEqual((await sweeper.sweep()).hibernated, [quiet]);
    assert.ok(!workspaces.hibernated.includes(stopped));

    // The terminal closes: the idle clock of that one starts then.
    closeTerminal();
    now += 5 * MINUTE - 1;
    assert.deepEqual((await sweeper.sweep()).hibernated, []);
    now += 1;
    assert.deepEqual((await sweeper.sweep()).hibernated, [busy]);
  });

  it('does not hibernate a workspace something opened in between its look and the lock', async () => {
    const id = await workspace('running', null);
    workspaces.meanwhile = async (target) => {
      idle.open(target, 'ide');
    };
    now += 6 * MINUTE;
    assert.deepEqual((await sweeper.sweep()).hibernated, []);
    assert.deepEqual(idle.openIn(id), { ide: 1 });
  });

  it('hibernates nothing when hibernation is off', async () => {
    const off = new LifetimeSweeper({
      store,
      workspaces,
      idle,
      settings: { ...settings, idleTimeoutMs: 0 },
      logger: pino({ level: 'silent' }),
      now: clock,
    });
    await workspace('running', null);
    now += 24 * 60 * MINUTE;
    assert.deepEqual((await off.sweep()).hibernated, []);
  });
});
