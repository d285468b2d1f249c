// How the UI words times and durations.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatRelativeTime } from '../../web/src/lib/format.js';

const now = Date.parse('2026-03-10T12:00:00.000Z');
const at = (offsetSeconds: number) => new Date(now + offsetSeconds * 1000).toISOString();
const words = new Intl.RelativeTimeFormat(undefined, { numeric: 'always' });

describe('relative times', () => {
  it('words two share links made a minute apart alike (was "tomorrow" and "in 24 hours")', () => {
    const day = 86_400;
    assert.equal(formatRelativeTime(at(day), now), words.format(1, 'day'));
    assert.equal(formatRelativeTime(at(day - 60), now), words.format(1, 'day'));
    assert.equal(formatRelativeTime(at(-day + 60), now), words.format(-1, 'day'));
  });

  it('rounds before choosing the unit, so no boundary reads "60 minutes" or "24 hours"', () => {
    assert.equal(formatRelativeTime(at(59.6 * 60), now), words.format(1, 'hour'));
    assert.equal(formatRelativeTime(at(23.6 * 3600), now), words.format(1, 'day'));
    assert.equal(formatRelativeTime(at(-90 * 60), now), words.format(-2, 'hour'));
  });

  it('says minutes, hours and days up to a month, "just now" under a minute, a date beyond', () => {
    assert.equal(formatRelativeTime(at(-20), now), 'just now');
    assert.equal(formatRelativeTime(at(5 * 60), now), words.format(5, 'minute'));
    assert.equal(formatRelativeTime(at(7 * 86_400), now), words.format(7, 'day'));
    const later = at(40 * 86_400);
    assert.equal(
      formatRelativeTime(later, now),
      new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' }).format(
        Date.parse(later),
      ),
    );
    assert.equal(formatRelativeTime('not a date', now), 'not a date');
  });
});
