import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  deadlineFor,
  idleView,
  isExpired,
  type LifetimeSettings,
  lifetimeView,
  shouldHibernate,
  sweepEveryMs,
} from './lifetime.js';

const HOUR = 3600_000;
const settings: LifetimeSettings = { lifetimeMs: 24 * HOUR, warningMs: HOUR, idleTimeoutMs: HOUR };
const at = (iso: string) => new Date(iso);

describe('workspace lifetime', () => {
  it('gives a workspace its deadline a lifetime after creation, and none when the lifetime is 0', () => {
    assert.deepEqual(deadlineFor(at('2026-01-01T10:00:00Z'), settings), at('2026-01-02T10:00:00Z'));
    assert.equal(deadlineFor(at('2026-01-01T10:00:00Z'), { ...settings, lifetimeMs: 0 }), null);
  });

  it('expires a workspace at rest once its deadline passed; a kept one, or one being made, never', () => {
    const expires_at = at('2026-01-02T10:00:00Z');
    assert.equal(isExpired({ expires_at, status: 'running' }, at('2026-01-02T09:59:59Z')), false);
    for (const status of ['running', 'stopped', 'hibernated', 'failed'] as const) {
      assert.equal(isExpired({ expires_at, status }, at('2026-01-02T10:00:00Z')), true, status);
    }
    for (const status of ['pending', 'building', 'starting', 'switching', 'deleted'] as const) {
      assert.equal(isExpired({ expires_at, status }, at('2026-01-03T00:00:00Z')), false, status);
    }
    assert.equal(isExpired({ expires_at: null, status: 'running' }, at('2030-01-01T00:00:00Z')), false);
  });

  it('warns from an hour before the deadline, and not at all once kept', () => {
    const row = { expires_at: at('2026-01-02T10:00:00Z'), kept_at: null };
    assert.deepEqual(lifetimeView(row, at('2026-01-02T08:59:59Z'), settings), {
      expiresAt: '2026-01-02T10:00:00.000Z',
      keptAt: null,
      warnFrom: '2026-01-02T09:00:00.000Z',
      expiring: false,
    });
    assert.equal(lifetimeView(row, at('2026-01-02T09:00:00Z'), settings).expiring, true);
    const kept = { expires_at: null, kept_at: at('2026-01-02T09:30:00Z') };
    assert.deepEqual(lifetimeView(kept, at('2026-01-02T09:45:00Z'), settings), {
      expiresAt: null,
      keptAt: '2026-01-02T09:30:00.000Z',
      warnFrom: null,
      expiring: false,
    });
  });
});

describe('idle hibernation', () => {
  const now = at('2026-01-01T12:00:00Z');
  const since = (iso: string) => at(iso).getTime();

  it('hibernates a running workspace idle for the timeout, not sooner', () => {
    assert.equal(shouldHibernate('running', since('2026-01-01T11:00:01Z'), now, settings), false);
    assert.equal(shouldHibernate('running', since('2026-01-01T11:00:00Z'), now, settings), true);
  });

  it('never hibernates one in use, one that is not running, or with hibernation off', () => {
    assert.equal(shouldHibernate('running', undefined, now, settings), false);
    assert.equal(shouldHibernate('stopped', since('2026-01-01T00:00:00Z'), now, settings), false);
    assert.equal(
      shouldHibernate('running', since('2026-01-01T00:00:00Z'), now, { ...settings, idleTimeoutMs: 0 }),
      false,
    );
  });

  it('shows since when a running workspace is idle and when it hibernates, or when it did', () => {
    assert.deepEqual(
      idleView({ status: 'running', hibernated_at: null }, since('2026-01-01T11:30:00Z'), settings),
      { idleSince: '2026-01-01T11:30:00.000Z', hibernatesAt: '2026-01-01T12:30:00.000Z', hibernatedAt: null },
    );
    assert.deepEqual(idleView({ status: 'running', hibernated_at: null }, undefined, settings), {
      idleSince: null,
      hibernatesAt: null,
      hibernatedAt: null,
    });
    assert.deepEqual(idleView({ status: 'hibernated', hibernated_at: now }, undefined, settings), {
      idleSince: null,
      hibernatesAt: null,
      hibernatedAt: '2026-01-01T12:00:00.000Z',
    });
  });

  it('looks a tenth of the shortest limit apart, within 250 ms and a minute', () => {
    assert.equal(sweepEveryMs(settings), 60_000);
    assert.equal(sweepEveryMs({ ...settings, idleTimeoutMs: 2000 }), 250);
    assert.equal(sweepEveryMs({ ...settings, idleTimeoutMs: 0, lifetimeMs: 30_000 }), 3000);
    assert.equal(sweepEveryMs({ lifetimeMs: 0, warningMs: 0, idleTimeoutMs: 0 }), 60_000);
  });
});
