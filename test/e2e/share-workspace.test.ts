// Sharing from the browser: the owner makes a view-only link in the Share dialog and copies it; a
// second browser without an account opens it and watches the owner's terminal, read-only; the
// owner revokes the link and the guest's view closes with the reason. A guest's view waits out a
// server restart, the closing server's 503 included.

import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { launchBrowser, type TestBrowser } from '../support/browser.js';
import { createInBrowser, signedInPage } from '../support/e2e-flows.js';
import { makeRepo } from '../support/git-fixtures.js';
import { type GitHttpServer, startGitHttpServer } from '../support/git-http-server.js';
import { createAndWaitRunning, startTestServer, type TestServer } from '../support/nixspace-server.js';

const webDist = fileURLToPath(new URL('../../web/dist/index.html', import.meta.url));

describe('sharing a workspace in the browser', () => {
  let gitServer: GitHttpServer;
  let server: TestServer;
  let browser: TestBrowser;

  before(async () => {
    if (!existsSync(webDist)) throw new Error('the UI is not built: run `npm run build:web` first');
    gitServer = await startGitHttpServer();
    await makeRepo(gitServer.root, 'app.git', { files: { 'notes.txt': 'hello\n' } });
    server = await startTestServer();
    browser = await launchBrowser();
  });

  after(async () => {
    await browser?.close();
    await server?.close();
    await gitServer?.close();
  });

  it('opens a view-only link for a guest without an account, and closes it when revoked', async () => {
    const { context: owner, page } = await signedInPage(browser, server);
    await owner.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: server.url });
    await createInBrowser(page, gitServer.url('app.git'));
    const terminal = page.getByTestId('terminal').and(page.locator('[data-state="connected"]'));
    await terminal.waitFor();
    await terminal.click();
    await page.keyboard.type('echo owner says $((40+2))\n');
    await page.getByText('owner says 42').waitFor();

    // Share: view-only, copy the link.
    await page.getByTestId('share-workspace').click();
    await page.getByTestId('share-role-viewer').check();
    await page.getByTestId('share-create').click();
    const url = await page.getByTestId('share-url').inputValue();
    assert.match(url, new RegExp(`^${server.url}/s/[A-Za-z0-9_-]{43}$`));
    await page.getByTestId('share-copy').click();
    await page.getByText('Copied to the clipboard.').waitFor();
    assert.equal(await page.evaluate(() => navigator.clipboard.readText()), url);
    await page.screenshot({
      path: `${process.env.NIXSPACE_SCREENSHOTS ?? '/tmp'}/nixspace-e2e-share-dialog.png`,
    });

    // A guest, in a browser with no session, opens it and sees the owner's shell.
    const guestContext = await browser.browser.newContext({ viewport: { width: 1280, height: 800 } });
    const guest = await guestContext.newPage();
    await guest.goto(url);
    await guest.getByTestId('shared-workspace').waitFor();
    assert.equal(await guest.getByTestId('share-role').textContent(), 'View only');
    assert.equal(
      (await guest.getByTestId('share-watching').textContent())?.trim(),
      "Watching the owner's terminal",
    );
    const watched = guest.getByTestId('terminal');
    await watched.and(guest.locator('[data-read-only="true"]')).waitFor();
    await guest.getByText('owner says 42').waitFor();
    // The owner types on; the guest sees it live.
    await page.getByTestId('share-dialog').getByRole('button', { name: 'Close' }).click();
    await terminal.click();
    await page.keyboard.type('echo still here $((6*7))\n');
    await guest.getByText('still here 42').waitFor();
    // The guest's keystrokes go nowhere.
    await watched.click();
    await guest.keyboard.type('echo guest-typed\n');
    await page.getByText('still here 42').waitFor();
    assert.equal(await page.getByText('guest-typed').count(), 0);
    await guest.screenshot({
      path: `${process.env.NIXSPACE_SCREENSHOTS ?? '/tmp'}/nixspace-e2e-share-guest.png`,
    });

    // The link is listed with the guest in it; revoking closes the guest's view.
    const item = page.getByTestId('share-item');
    await page.getByTestId('share-workspace').click();
    await item.filter({ hasText: '1 in now' }).waitFor();
    await item.getByTestId('share-revoke').click();
    await page.getByText('No link opens this workspace.').waitFor();
    const closed = guest.getByTestId('share-closed');
    await closed.waitFor({ timeout: 5000 });
    assert.match((await closed.textContent()) ?? '', /revoked/);

    // Opening it again is refused with the same reason.
    await guest.goto(url);
    await guest.getByTestId('share-closed').waitFor();
    assert.match((await guest.getByTestId('share-closed').textContent()) ?? '', /revoked/);
    await guestContext.close();
    await owner.close();
  });

  it("waits out a server restart, the closing server's 503 included, and follows the workspace again", async () => {
    const { id } = await createAndWaitRunning<{ id: string }>(server, gitServer.url('app.git'));
    const link = await server.api<{ url: string }>(`/api/workspaces/${id}/shares`, {
      method: 'POST',
      body: { role: 'viewer', anonymous: true },
    });
    const guestContext = await browser.browser.newContext({ viewport: { width: 1280, height: 800 } });
    try {
      const guest = await guestContext.newPage();
      await guest.goto(link.body.url);
      await guest.getByTestId('shared-workspace').waitFor();
      // A server that is closing answers every request with Fastify's own 503 until it is gone; the
      // window is too short to hit on purpose, so the guest's first visit after the restart gets
      // that exact answer from the browser's network layer instead.
      let refused = 0;
      await guest.route('**/api/shares/visit', async (route) => {
        if (refused > 0) return route.continue();
        refused += 1;
        await route.fulfill({
          status: 503,
          contentType: 'application/json',
          body: '{"error":"Service Unavailable","message":"Service Unavailable","statusCode":503}',
        });
      });
      await server.restart();
      await guest
        .getByTestId('server-notice')
        .and(guest.locator('[data-kind="restarted"]'))
        .waitFor({ timeout: 60_000 });
      assert.equal(refused, 1, 'the visit after the restart was answered 503');
      assert.equal(await guest.getByTestId('share-closed').count(), 0, 'the view stayed open');
      await guest.getByTestId('shared-workspace').waitFor();
    } finally {
      await guestContext.close();
    }
  });
});
