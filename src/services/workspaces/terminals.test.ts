// Terminal sessions in a real bubblewrap sandbox: a shell nobody is attached to goes after an
// idle time, and a full workspace makes room for a new shell instead of locking its owner out
// (issue 11: detached terminals were never reaped, so the cap of 32 refused the owner for good).

import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startTestSandbox, type TestSandbox } from '../../../test/support/sandbox.js';
import { NixSpaceError } from '../../errors.js';
import { type TerminalClient, WorkspaceTerminals } from './terminals.js';

let box: TestSandbox;
const opened: WorkspaceTerminals[] = [];

before(async () => {
  box = await startTestSandbox();
});

after(async () => {
  for (const terminals of opened) terminals.closeAll();
  await box?.close();
});

function terminals(options: { max: number; detachedIdleMs: number }): WorkspaceTerminals {
  const shell = { argv: ['/bin/sh'], cwd: join(box.dir, 'repo'), env: { PATH: '/usr/bin:/bin' } };
  const made = new WorkspaceTerminals(box.sandbox.agent!, shell, options);
  opened.push(made);
  return made;
}

const size = { cols: 80, rows: 24 };

function client(): TerminalClient & { exited: Promise<number> } {
  let exit: (code: number) => void = () => {};
  const exited = new Promise<number>((resolve) => {
    exit = resolve;
  });
  return { onData() {}, onExit: (code) => exit(code), exited };
}

async function until(condition: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) assert.fail(`timed out waiting until ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

describe('WorkspaceTerminals', () => {
  it('closes a terminal nobody is attached to after the idle time, and keeps attached ones', async () => {
    const t = terminals({ max: 4, detachedIdleMs: 300 });
    const kept = await t.open(size, 'owner');
    const attachment = kept.attach(client());
    const left = await t.open(size, 'owner');
    await until(() => t.get(left.id) === undefined, 'the detached terminal is closed');
    assert.ok(t.get(kept.id), 'the attached terminal stays');
    attachment.detach();
    await until(() => t.get(kept.id) === undefined, 'it is closed once detached for the idle time');
    assert.equal(t.size, 0);
  });

  it('restarts the idle time when someone attaches again', async () => {
    const t = terminals({ max: 4, detachedIdleMs: 400 });
    const session = await t.open(size, 'owner');
    const attachment = session.attach(client());
    attachment.detach();
    const again = session.attach(client());
    // Longer than the idle time after the first detach: the second attach keeps it open.
    const marker = await t.open(size, 'owner');
    await until(() => t.get(marker.id) === undefined, 'a terminal opened later is reaped');
    assert.ok(t.get(session.id), 'the reattached terminal stays');
    again.detach();
  });

  it('closes the oldest detached terminal to open one past the cap', async () => {
    const t = terminals({ max: 2, detachedIdleMs: 60_000 });
    const oldest = await t.open(size, 'owner');
    const attached = await t.open(size, 'owner');
    attached.attach(client());
    const fresh = await t.open(size, 'owner');
    assert.equal(t.get(oldest.id), undefined, 'the detached one made room');
    assert.ok(t.get(attached.id));
    assert.ok(t.get(fresh.id));
    assert.equal(t.size, 2);
  });

  it('gives the owner a terminal even when editors hold every one, and refuses an editor with a clear error', async () => {
    const t = terminals({ max: 2, detachedIdleMs: 60_000 });
    const first = await t.open(size, 'editor');
    const firstClient = client();
    first.attach(firstClient);
    (await t.open(size, 'editor')).attach(client());
    await assert.rejects(
      t.open(size, 'editor'),
      (error: unknown) =>
        error instanceof NixSpaceError &&
        error.code === 'CONFLICT' &&
        /all 2 terminals of this workspace are in use/i.test(error.message),
    );
    const owners = await t.open(size, 'owner');
    assert.ok(t.get(owners.id));
    assert.equal(t.get(first.id), undefined, "the editor's oldest terminal made room");
    await firstClient.exited;
    owners.attach(client());
    (await t.open(size, 'owner')).attach(client());
    await assert.rejects(
      t.open(size, 'owner'),
      (error: unknown) =>
        error instanceof NixSpaceError && error.code === 'CONFLICT' && /close one/.test(error.message),
      "with every terminal the owner's own and attached, the owner is told to close one",
    );
  });
});
