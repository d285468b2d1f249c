// The brief's limits in the browser: the owner is warned that a workspace's lifetime ends, on its
// page and in the list, and Keep keeps it; a hibernated workspace starts again when its page opens,
// with its files.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Job } from '../../src/wire/jobs.js';
import type { Workspace } from '../../src/wire/workspaces.js';
import {
  type E2eSetup,
  focusTerminal,
  runningBadge,
  signedInPage,
  startE2e,
  terminalShows,
} from '../support/e2e-flows.js';
import { makeRepo } from '../support/git-fixtures.js';
import { createAndWaitRunning, waitForStatus } from '../support/nixspace-server.js';

describe('lifetime and hibernation in the browser', () => {
  let e2e: E2eSetup;

  before(async () => {
    e2e = await startE2e((git) => makeRepo(git.root, 'app.git', { files: { 'README.md': 'app\n' } }), {
      // Ten minutes: inside the hour's warning from the start, and never reached by the test.
      config: { workspaces: { lifetimeMs: 10 * 60_000, hibernateAfterMs: 1500 } },
    });
  });

  after(async () => {
    await e2e?.close();
  });

  it('warns on the page and in the list, and Keep keeps the workspace', async () => {
    const ws = await createAndWaitRunning<Workspace>(e2e.server, e2e.gitServer.url('app.git'));
    const { context, page } = await signedInPage(e2e.browser, e2e.server);
    try {
      const row = page.getByTestId('workspace-row').and(page.locator(`[data-id="${ws.id}"]`));
      await row.getByTestId('expiry-marker').waitFor();
      assert.match((await row.getByTestId('expiry-marker').textContent()) ?? '', /Deleted in 10 minutes/);

      await page.goto(`${e2e.server.url}/w/${ws.id}`);
      await runningBadge(page).waitFor({ timeout: 30_000 });
      const notice = page.getByTestId('expiry-notice');
      await notice.waitFor();
      assert.match((await notice.textContent()) ?? '', /will be deleted in 10 minutes/);
      await page.screenshot({
        path: `${process.env.NIXSPACE_SCREENSHOTS ?? '/tmp'}/nixspace-e2e-expiry-notice.png`,
      });
      const lifetime = page.getByTestId('workspace-lifetime');
      assert.match((await lifetime.textContent()) ?? '', /^deleted /);
      await notice.getByTestId('keep-workspace').click();
      await notice.waitFor({ state: 'detached' });
      await page.waitForFunction(
        () => document.querySelector('[data-testid="workspace-lifetime"]')?.textContent === 'kept',
      );
      const kept = await e2e.server.api<Workspace>(`/api/workspaces/${ws.id}`);
      assert.equal(kept.body.lifetime.expiresAt, null);
      assert.ok(kept.body.lifetime.keptAt);

      // The list says nothing any more.
      await page.goto(`${e2e.server.url}/`);
      await row.waitFor();
      assert.equal(await row.getByTestId('expiry-marker').count(), 0);
      assert.equal(await row.getByTestId('keep-workspace').count(), 0);
    } finally {
      await context.close();
    }
  });

  it('starts a hibernated workspace again when its page opens, with its files', async () => {
    const ws = await createAndWaitRunning<Workspace>(e2e.server, e2e.gitServer.url('app.git'));
    const job = await e2e.server.api<Job>('/api/jobs', {
      method: 'POST',
      body: { command: 'echo written-before > note.txt', target: ws.id },
    });
    assert.equal(job.status, 201, JSON.stringify(job.body));
    await waitForStatus(e2e.server, ws.id, ['hibernated']);

    const { context, page } = await signedInPage(e2e.browser, e2e.server);
    try {
      await page.goto(`${e2e.server.url}/w/${ws.id}`);
      await runningBadge(page).waitFor({ timeout: 30_000 });
      await focusTerminal(page);
      await page.keyboard.type('cat note.txt\n');
      await terminalShows(page, 'written-before');
    } finally {
      await context.close();
    }
  });
});
