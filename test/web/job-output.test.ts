// The job log's display state as the UI builds it from `job:log` / `job:done` events.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { JobLogEvent } from '../../src/wire/jobs.js';
import { applyDone, applyLogEvent, emptyOutput } from '../../web/src/lib/job-output.js';

const event = (offset: number, chunk: string, extra: Partial<JobLogEvent> = {}): JobLogEvent => ({
  jobId: 'j',
  stream: 'stdout',
  chunk,
  ts: '2026-01-01T00:00:00.000Z',
  offset,
  ...extra,
});

describe('job output in the UI', () => {
  it('resumes after the lost range an error event covers, not after its message (skipped real output)', () => {
    const out = emptyOutput();
    assert.equal(applyLogEvent(out, event(0, 'one\n')), true);
    // The stand-in's text is longer than the 4 bytes it stands for: advancing by its length put
    // the resume offset past the next real chunk, which was then dropped as already seen.
    const message = '[4 bytes of output could not be stored]\n';
    assert.equal(applyLogEvent(out, event(4, message, { stream: 'system', error: true, covers: 4 })), true);
    assert.equal(out.nextOffset, 8);
    assert.equal(applyLogEvent(out, event(8, 'two\n')), true);
    assert.equal(out.nextOffset, 12);
    assert.deepEqual(
      out.lines.map((l) => l.text),
      ['one', message.trimEnd(), 'two'],
    );
  });

  it('keeps a replayed event out and counts UTF-8 bytes, not characters', () => {
    const out = emptyOutput();
    applyLogEvent(out, event(0, 'é€\n'));
    assert.equal(out.nextOffset, 6);
    assert.equal(applyLogEvent(out, event(0, 'é€\n')), false);
    assert.equal(out.lines.length, 1);
  });

  it('shows an unfinished last line when the job ends', () => {
    const out = emptyOutput();
    applyLogEvent(out, event(0, 'progress 10%\rprogress 100%'));
    assert.equal(out.lines.length, 0);
    applyDone(out, { jobId: 'j', status: 'succeeded', exitCode: 0 });
    assert.deepEqual(out.lines, [{ stream: 'stdout', text: 'progress 100%' }]);
    assert.equal(out.done?.status, 'succeeded');
  });
});
