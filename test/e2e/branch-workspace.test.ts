// Branching from the browser: Branch… makes a new workspace from this one's files at another
// branch, it opens running, and the Environment panel of each shows the other in its lineage.

import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { launchBrowser, type TestBrowser } from '../support/browser.js';
import { createInBrowser, runningBadge, signedInPage } from '../support/e2e-flows.js';
import { commitFiles, git as gitIn, makeRepo } from '../support/git-fixtures.js';
import { type GitHttpServer, startGitHttpServer } from '../support/git-http-server.js';
import { startTestServer, type TestServer } from '../support/nixspace-server.js';

const webDist = fileURLToPath(new URL('../../web/dist/index.html', import.meta.url));

describe('branching a workspace in the browser', () => {
  let gitServer: GitHttpServer;
  let server: TestServer;
  let browser: TestBrowser;
  let featureCommit: string;

  before(async () => {
    if (!existsSync(webDist)) throw new Error('the UI is not built: run `npm run build:web` first');
    gitServer = await startGitHttpServer();
    await makeRepo(gitServer.root, 'app.git', { files: { 'notes.txt': 'on main\n' } });
    const gitDir = join(gitServer.root, 'app.git');
    const parent = await gitIn(['--git-dir', gitDir, 'rev-parse', 'refs/heads/main']);
    featureCommit = await commitFiles(gitDir, {
      parent,
      files: { 'other.txt': 'on feature\n' },
      message: 'Feature work',
    });
    await gitIn(['--git-dir', gitDir, 'update-ref', 'refs/heads/feature', featureCommit]);
    server = await startTestServer();
    browser = await launchBrowser();
  });

  after(async () => {
    await browser?.close();
    await server?.close();
    await gitServer?.close();
  });

  it('branches to another ref with the work in progress, and links parent and branch', async () => {
    const { context, page } = await signedInPage(browser, server);
    const parentId = await createInBrowser(page, gitServer.url('app.git'));
    await writeFile(join(server.dataDir, 'workspaces', parentId, 'repo', 'notes.txt'), 'work in progress\n');

    await page.getByTestId('branch-workspace').click();
    await page.getByTestId('branch-ref').fill('feature');
    await page.getByTestId('branch-submit').click();
    await page.waitForURL(
      (url) => /\/w\/[0-9a-f-]{36}$/.test(url.pathname) && !url.pathname.endsWith(parentId),
    );
    const childId = page.url().split('/').at(-1)!;
    await runningBadge(page).waitFor({ timeout: 30_000 });
    const child = await server.api<{ parentId: string; commit: string }>(`/api/workspaces/${childId}`);
    assert.equal(child.body.parentId, parentId);
    assert.equal(child.body.commit, featureCommit);

    // The branch's shell sees the parent's work in progress on the feature branch's files.
    const terminal = page.getByTestId('terminal').and(page.locator('[data-state="connected"]'));
    await terminal.waitFor();
    await terminal.click();
    await page.keyboard.type('cat notes.txt other.txt\n');
    await page.waitForFunction(() => {
      const text = document.querySelector('[data-testid="terminal"] .xterm-rows')?.textContent ?? '';
      return text.includes('work in progress') && text.includes('on feature');
    });

    await page.getByTestId('environment-toggle').click();
    const lineage = page.getByTestId('workspace-lineage');
    await lineage.getByText('Branched from').waitFor();
    await page.screenshot({ path: `${process.env.NIXSPACE_SCREENSHOTS ?? '/tmp'}/nixspace-e2e-branch.png` });
    await lineage.getByTestId('lineage-link').click();
    await page.waitForURL(`${server.url}/w/${parentId}`);
    await page.getByTestId('environment-toggle').click();
    await page.getByTestId('workspace-lineage').getByText('Branches').waitFor();
    const links = page.getByTestId('workspace-lineage').getByTestId('lineage-link');
    assert.equal(await links.count(), 1);
    assert.match((await links.textContent()) ?? '', /feature/);
    await context.close();
  });
});
