// The workspace list in the browser: repeated failed attempts at one repository and ref show as
// one row that expands, and workspaces of one repository are told apart by a short id.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type E2eSetup, signedInPage, startE2e } from '../support/e2e-flows.js';
import { makeRepo } from '../support/git-fixtures.js';
import { waitForStatus } from '../support/nixspace-server.js';

describe('the workspace list in the browser', () => {
  let e2e: E2eSetup;

  before(async () => {
    e2e = await startE2e((git) => makeRepo(git.root, 'app.git', { files: { 'README.md': 'app\n' } }));
  });

  after(async () => {
    await e2e?.close();
  });

  const failedAttempt = async (ref: string) => {
    const created = await e2e.server.api<{ id: string }>('/api/workspaces', {
      method: 'POST',
      body: { repoUrl: e2e.gitServer.url('app.git'), ref },
    });
    const failed = await waitForStatus(e2e.server, created.body.id, ['failed', 'running']);
    assert.equal(failed.status, 'failed');
    return created.body.id;
  };

  it('collapses failed attempts into one row that expands, and shows ids where names repeat', async () => {
    const grouped = [];
    for (let i = 0; i < 3; i++) grouped.push(await failedAttempt('no-such-branch'));
    const other = await failedAttempt('another-missing-branch');

    const { context, page } = await signedInPage(e2e.browser, e2e.server);
    const group = page.getByTestId('failed-attempts');
    await group.waitFor();
    assert.equal(await group.count(), 1);
    assert.equal(await group.getAttribute('data-count'), '3');
    const toggle = group.getByTestId('failed-attempts-toggle');
    assert.equal((await toggle.textContent())?.trim(), '3 failed attempts');
    assert.match((await group.textContent()) ?? '', /no-such-branch/);
    // Collapsed: only the other attempt has a row of its own.
    const rows = page.getByTestId('workspace-row');
    assert.deepEqual(await rows.evaluateAll((els) => els.map((e) => e.getAttribute('data-id'))), [other]);

    await toggle.click();
    assert.equal(await toggle.getAttribute('aria-expanded'), 'true');
    await page.waitForFunction(() => document.querySelectorAll('[data-testid="workspace-row"]').length === 4);
    const ids = await group
      .getByTestId('workspace-row')
      .evaluateAll((els) => els.map((e) => e.getAttribute('data-id')));
    assert.deepEqual(ids.sort(), [...grouped].sort());
    // Every one of them is "app": each row carries the start of its id.
    const shortIds = await page.getByTestId('workspace-short-id').allTextContents();
    assert.deepEqual(
      shortIds.map((s) => s.trim()).sort(),
      [...grouped, other].map((id) => id.slice(0, 8)).sort(),
    );
    await page.screenshot({
      path: `${process.env.NIXSPACE_SCREENSHOTS ?? '/tmp'}/nixspace-e2e-list-groups.png`,
    });
    await context.close();
  });
});
