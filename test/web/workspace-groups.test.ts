// How the workspace list groups failed attempts and tells workspaces of one repository apart.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  groupWorkspaces,
  isFailedAttempts,
  sharedNames,
  shortId,
} from '../../web/src/lib/workspace-groups.js';

const ws = (
  id: string,
  status: string,
  ref: string | null = null,
  repo = 'https://example.test/app.git',
) => ({
  id,
  name: repo.split('/').at(-1)!.replace('.git', ''),
  repoUrl: repo,
  ref,
  status,
});

describe('workspace list rows', () => {
  it('collapses failed attempts at one repository and ref into one row where the newest was', () => {
    const list = [
      ws('a', 'failed'),
      ws('b', 'running'),
      ws('c', 'failed'),
      ws('d', 'failed', 'v2'),
      ws('e', 'failed'),
      ws('f', 'failed', null, 'https://example.test/other.git'),
    ];
    const entries = groupWorkspaces(list);
    assert.deepEqual(
      entries.map((e) => (isFailedAttempts(e) ? e.attempts.map((w) => w.id).join('+') : e.id)),
      ['a+c+e', 'b', 'd', 'f'],
    );
  });

  it('leaves a single failure and workspaces that did not fail as rows of their own', () => {
    const list0 = ws('a', 'failed');
    const entries = groupWorkspaces([list0, ws('b', 'running'), ws('c', 'stopped')]);
    assert.ok(entries.every((e) => !isFailedAttempts(e)));
    assert.equal(entries[0], list0, 'the workspace itself, not a copy');
    assert.equal(entries.length, 3);
  });

  it('marks names more than one workspace has, and shortens ids to 8 characters', () => {
    const shared = sharedNames([
      ws('a', 'running'),
      ws('b', 'failed', 'v2'),
      ws('c', 'running', null, 'x/other.git'),
    ]);
    assert.deepEqual([...shared], ['app']);
    assert.equal(shortId('5f7bf13e-ac17-4e0c-9d61-0b7a1d2c3e4f'), '5f7bf13e');
  });
});
