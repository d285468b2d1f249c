import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { IdleTracker } from './idle-tracker.js';

describe('IdleTracker', () => {
  it('is idle from its own start until something opens, and busy while anything is open', () => {
    let now = 1000;
    const idle = new IdleTracker(() => now);
    assert.equal(idle.idleSince('w'), 1000);
    now = 5000;
    const terminal = idle.open('w', 'terminal');
    const job = idle.open('w', 'job');
    assert.equal(idle.busy('w'), true);
    assert.equal(idle.idleSince('w'), undefined);
    assert.deepEqual(idle.openIn('w'), { terminal: 1, job: 1 });
    now = 7000;
    terminal();
    assert.equal(idle.idleSince('w'), undefined, 'a running job keeps it busy');
    now = 9000;
    job();
    assert.equal(idle.idleSince('w'), 9000, 'idle from when the last thing closed');
    assert.deepEqual(idle.openIn('w'), {});
  });

  it('counts connections of one kind, and ending one twice ends it once', () => {
    let now = 0;
    const idle = new IdleTracker(() => now);
    const first = idle.open('w', 'ide');
    const second = idle.open('w', 'ide');
    first();
    first();
    assert.equal(idle.busy('w'), true);
    now = 50;
    second();
    assert.equal(idle.idleSince('w'), 50);
  });

  it('takes a later change of the workspace as its last use, and keeps workspaces apart', () => {
    let now = 0;
    const idle = new IdleTracker(() => now);
    now = 100;
    idle.open('a', 'terminal')();
    assert.equal(idle.idleSince('a', 400), 400);
    assert.equal(idle.idleSince('a', 50), 100);
    assert.equal(idle.idleSince('b'), 0);
    idle.forget('a');
    assert.equal(idle.idleSince('a'), 0);
  });
});
