// A viewer's VS Code, in a real browser: opening its terminal runs no shell in the workspace, only
// a line that says the view is read-only (issue 11, "Viewer IDE").

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type E2eSetup, startE2e } from '../support/e2e-flows.js';
import { makeRepo } from '../support/git-fixtures.js';

describe("a viewer's VS Code", () => {
  let e2e: E2eSetup;
  let id = '';

  before(async () => {
    e2e = await startE2e((git) => makeRepo(git.root, 'app.git', { files: { 'notes.txt': 'hello\n' } }), {
      ide: true,
    });
    const created = await e2e.server.api<{ id: string }>('/api/workspaces', {
      method: 'POST',
      body: { repoUrl: e2e.gitServer.url('app.git') },
    });
    id = created.body.id;
  });

  after(async () => {
    await e2e?.close();
  });

  it('opens a terminal that says the view is read-only, and no shell', async () => {
    const link = await e2e.server.api<{ token: string }>(`/api/workspaces/${id}/shares`, {
      method: 'POST',
      body: { role: 'viewer' },
    });
    const context = await e2e.browser.browser.newContext({ viewport: { width: 1280, height: 800 } });
    const page = await context.newPage();
    // What the share page does: the visit sets the token cookies for the workspace's paths.
    const visit = await page.request.post(`${e2e.server.url}/api/shares/visit`, {
      data: { token: link.body.token },
    });
    assert.equal(visit.status(), 200);
    const deadline = Date.now() + 60_000;
    for (;;) {
      await page.goto(`${e2e.server.url}/ide/${id}/`);
      if (await page.locator('.monaco-workbench').count()) break;
      // The workspace (or its IDE) is still starting: the proxy answers 503 until it runs.
      assert.ok(Date.now() < deadline, 'the read-only IDE opened');
      await page
        .locator('.monaco-workbench')
        .waitFor({ timeout: 2000 })
        .catch(() => undefined);
      if (await page.locator('.monaco-workbench').count()) break;
    }
    await page.getByRole('treeitem', { name: 'notes.txt' }).waitFor({ timeout: 60_000 });
    await page.keyboard.press('Control+Backquote');
    // The workspace is untrusted (restricted mode): a terminal asks first. Even trusted by the
    // viewer, it runs no shell.
    await page.getByRole('button', { name: 'Trust Folder & Continue' }).click({ timeout: 30_000 });
    await page.waitForFunction(
      () =>
        document
          .querySelector('.terminal .xterm-rows')
          ?.textContent?.includes('This is a read-only view of the workspace: it has no terminal.'),
      undefined,
      { timeout: 30_000 },
    );
    await page.screenshot({
      path: `${process.env.NIXSPACE_SCREENSHOTS ?? '/tmp'}/nixspace-e2e-viewer-terminal.png`,
    });
    // What the viewer types is not run.
    await page.keyboard.type('echo typed-$((6*7))');
    await page.keyboard.press('Enter');
    await page.locator('.terminal').waitFor({ state: 'detached', timeout: 30_000 });
    assert.doesNotMatch((await page.locator('body').textContent()) ?? '', /typed-42/);
    await context.close();
  });
});
