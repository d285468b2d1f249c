// The order and the search of the switch dialog's refs.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { RefEntry } from '../../src/wire/switching.js';
import { isBotBranch, orderBranches, searchTags } from '../../web/src/lib/ref-order.js';

const ref = (name: string, date: string): RefEntry => ({ name, commit: name, date, subject: name });

describe('switch dialog refs', () => {
  it("lists branches by their latest commit, newest first, with bots' branches last", () => {
    const ordered = orderBranches([
      ref('old-feature', '2024-01-01T00:00:00Z'),
      ref('dependabot/npm_and_yarn/lodash-4.17.21', '2026-03-01T00:00:00Z'),
      ref('main', '2026-02-01T00:00:00+01:00'),
      ref('renovate/vite-8.x', '2026-03-02T00:00:00Z'),
      ref('fresh', '2026-02-20T00:00:00Z'),
    ]);
    assert.deepEqual(
      ordered.map((b) => b.name),
      ['fresh', 'main', 'old-feature', 'renovate/vite-8.x', 'dependabot/npm_and_yarn/lodash-4.17.21'],
    );
  });

  it("tells bots' branches from people's", () => {
    assert.equal(isBotBranch('dependabot/github_actions/x'), true);
    assert.equal(isBotBranch('renovate/configure'), true);
    assert.equal(isBotBranch('renovated-ui'), false);
    assert.equal(isBotBranch('feature/dependabot-config'), false);
  });

  it('searches tags by name and shows a bounded number, newest first', () => {
    const tags = Array.from({ length: 300 }, (_, i) =>
      ref(`v1.${i}.0`, new Date(Date.UTC(2020, 0, 1) + i * 86_400_000).toISOString()),
    );
    const all = searchTags(tags, '');
    assert.equal(all.matched, 300);
    assert.equal(all.shown.length, 12);
    assert.equal(all.shown[0]?.name, 'v1.299.0');
    const found = searchTags(tags, ' V1.29');
    assert.deepEqual(
      found.shown.map((t) => t.name),
      [
        'v1.299.0',
        'v1.298.0',
        'v1.297.0',
        'v1.296.0',
        'v1.295.0',
        'v1.294.0',
        'v1.293.0',
        'v1.292.0',
        'v1.291.0',
        'v1.290.0',
        'v1.29.0',
      ],
    );
    assert.equal(found.matched, 11);
    assert.deepEqual(searchTags(tags, 'nope'), { shown: [], matched: 0 });
  });
});
