// Switching a workspace from the browser: pick a branch in the switch dialog, watch the switch
// progress, and find the branch's files in the terminal; uncommitted work stops a default switch
// with the files named. The dialog lists branches newest first with bots' last, and searches tags.

import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { launchBrowser, type TestBrowser } from '../support/browser.js';
import { createInBrowser, signedInPage } from '../support/e2e-flows.js';
import { commitFiles, git as gitIn, makeRepo } from '../support/git-fixtures.js';
import { type GitHttpServer, startGitHttpServer } from '../support/git-http-server.js';
import { startTestServer, type TestServer } from '../support/nixspace-server.js';

const webDist = fileURLToPath(new URL('../../web/dist/index.html', import.meta.url));

describe('switching a workspace in the browser', () => {
  let gitServer: GitHttpServer;
  let server: TestServer;
  let browser: TestBrowser;
  let featureCommit: string;
  let mainCommit: string;
  const tagCount = 30;

  before(async () => {
    if (!existsSync(webDist)) throw new Error('the UI is not built: run `npm run build:web` first');
    gitServer = await startGitHttpServer();
    await makeRepo(gitServer.root, 'app.git', { files: { 'notes.txt': 'on main\n' } });
    const gitDir = join(gitServer.root, 'app.git');
    const parent = await gitIn(['--git-dir', gitDir, 'rev-parse', 'refs/heads/main']);
    mainCommit = parent;
    featureCommit = await commitFiles(gitDir, {
      parent,
      // The feature branch also needs Redis: its environment differs from main's.
      files: {
        'notes.txt': 'on feature\n',
        'docker-compose.yml': 'services:\n  cache:\n    image: redis:7\n',
      },
      message: 'Feature work',
    });
    await gitIn(['--git-dir', gitDir, 'update-ref', 'refs/heads/feature', featureCommit]);

    // A repository with many tags, a bot's branch committed to last and a branch newer than main.
    await makeRepo(gitServer.root, 'refs.git', { files: { 'README.md': 'refs\n' } });
    const refsDir = join(gitServer.root, 'refs.git');
    let tip = await gitIn(['--git-dir', refsDir, 'rev-parse', 'refs/heads/main']);
    for (let i = 0; i < tagCount; i++) {
      tip = await commitFiles(refsDir, {
        parent: tip,
        files: { VERSION: `1.${i}.0\n` },
        message: `1.${i}.0`,
      });
      await gitIn(['--git-dir', refsDir, 'update-ref', `refs/tags/v1.${i}.0`, tip]);
    }
    await gitIn(['--git-dir', refsDir, 'update-ref', 'refs/heads/main', tip]);
    const older = await commitFiles(refsDir, { parent: tip, files: { a: 'a\n' }, message: 'Old work' });
    await gitIn(['--git-dir', refsDir, 'update-ref', 'refs/heads/old-work', older]);
    const fresh = await commitFiles(refsDir, { parent: tip, files: { b: 'b\n' }, message: 'Fresh work' });
    await gitIn(['--git-dir', refsDir, 'update-ref', 'refs/heads/fresh-work', fresh]);
    const bump = await commitFiles(refsDir, { parent: tip, files: { c: 'c\n' }, message: 'Bump lodash' });
    await gitIn([
      '--git-dir',
      refsDir,
      'update-ref',
      'refs/heads/dependabot/npm_and_yarn/lodash-4.17.21',
      bump,
    ]);
    server = await startTestServer();
    browser = await launchBrowser();
  });

  after(async () => {
    await browser?.close();
    await server?.close();
    await gitServer?.close();
  });

  it('switches to a branch picked in the dialog, and names uncommitted files when it refuses', async () => {
    const context = await browser.browser.newContext({ viewport: { width: 1280, height: 800 } });
    const page = await context.newPage();
    await page.goto(await server.nixspace.ownerLoginLink());
    await page.waitForURL(`${server.url}/`);
    await page.getByTestId('repo-url').fill(gitServer.url('app.git'));
    await page.getByTestId('create').click();
    await page.waitForURL(/\/w\/[0-9a-f-]{36}$/);
    const id = page.url().split('/').at(-1)!;
    const running = page.getByTestId('workspace-status').and(page.locator('[data-status="running"]'));
    await running.waitFor({ timeout: 30_000 });

    // Uncommitted work: the default switch refuses and names the file.
    await writeFile(join(server.dataDir, 'workspaces', id, 'repo', 'notes.txt'), 'my edit\n');
    await page.getByTestId('switch-workspace').click();
    await page.getByTestId('ref-branch-feature').click();
    assert.equal(await page.getByTestId('switch-ref').inputValue(), 'feature');
    await page.getByTestId('switch-submit').click();
    const problem = page.getByTestId('switch-error');
    await problem.waitFor();
    assert.match((await problem.textContent()) ?? '', /uncommitted changes in 1 file.*notes\.txt/s);
    await page.screenshot({ path: `${process.env.NIXSPACE_SCREENSHOTS ?? '/tmp'}/nixspace-e2e-switch.png` });

    // Stash it and switch.
    await page.getByTestId('uncommitted-stash').check();
    await page.getByTestId('switch-submit').click();
    await page.getByTestId('switch-dialog').waitFor({ state: 'hidden' });
    await running.waitFor({ timeout: 30_000 });
    const view = await server.api<{ commit: string; branch: string }>(`/api/workspaces/${id}`);
    assert.equal(view.body.commit, featureCommit);
    assert.equal(view.body.branch, 'feature');

    const terminal = page.getByTestId('terminal');
    await terminal.locator('.xterm-rows').waitFor();
    await page.waitForFunction(() =>
      // The workspace user's prompt (never root's `#`).
      document.querySelector('[data-testid="terminal"] .xterm-rows')?.textContent?.includes('$'),
    );
    await terminal.click();
    await page.keyboard.type('cat notes.txt; git stash list');
    await page.keyboard.press('Enter');
    await page.waitForFunction(
      () => {
        const text = document.querySelector('[data-testid="terminal"] .xterm-rows')?.textContent ?? '';
        return text.includes('on feature') && text.includes('nixspace: before switching to feature');
      },
      undefined,
      { timeout: 15_000 },
    );

    // The Environment panel lists both versions; rolling back returns to main in one step.
    await page.getByTestId('environment-toggle').click();
    const rows = page.getByTestId('version-row');
    await page.waitForFunction(() => document.querySelectorAll('[data-testid="version-row"]').length === 2);
    assert.match((await rows.nth(0).textContent()) ?? '', /\+redis 7/);
    assert.equal(await rows.nth(0).getAttribute('data-current'), 'true');
    // Comparing the two versions lists what the switch changed, fact by fact.
    await rows.nth(0).getByTestId('compare-pick').check();
    await rows.nth(1).getByTestId('compare-pick').check();
    const change = page.getByTestId('environment-diff').getByTestId('diff-change');
    await change.first().waitFor();
    assert.equal(await change.count(), 1);
    assert.equal(await change.getAttribute('data-change'), 'added');
    assert.match((await change.textContent()) ?? '', /service\s*redis\s*added \(7\)/);
    await page.screenshot({
      path: `${process.env.NIXSPACE_SCREENSHOTS ?? '/tmp'}/nixspace-e2e-versions.png`,
    });
    await rows.nth(1).getByTestId('rollback').click();
    await page.waitForFunction(
      (main) =>
        fetch(location.pathname.replace('/w/', '/api/workspaces/'))
          .then((r) => r.json())
          .then((w) => w.status === 'running' && w.commit === main),
      mainCommit,
      { timeout: 30_000, polling: 250 },
    );
    await context.close();
  });

  it("lists branches by latest commit with bots' branches last, and searches the tags", async () => {
    const { context, page } = await signedInPage(browser, server);
    await createInBrowser(page, gitServer.url('refs.git'));
    await page.getByTestId('switch-workspace').click();
    const branches = page.locator('[data-testid^="ref-branch-"]');
    await branches.first().waitFor();
    const names = await branches.evaluateAll((buttons) =>
      buttons.map((b) => b.getAttribute('data-testid')?.replace('ref-branch-', '')),
    );
    assert.deepEqual(names, ['fresh-work', 'old-work', 'main', 'dependabot/npm_and_yarn/lodash-4.17.21']);

    // Not every tag is listed: the newest ones, and a search box for the rest.
    const tags = page.locator('[data-testid^="ref-tag-"]');
    assert.equal(await tags.count(), 12);
    assert.equal(await tags.first().getAttribute('data-testid'), `ref-tag-v1.${tagCount - 1}.0`);
    assert.match((await page.getByTestId('switch-tag-count').textContent()) ?? '', /12 newest of 30/);
    await page.getByTestId('switch-tag-search').fill('v1.1');
    await page.waitForFunction(
      () => document.querySelectorAll('[data-testid^="ref-tag-"]').length === 11,
      undefined,
      { timeout: 5000 },
    );
    await page.getByTestId('ref-tag-v1.3.0').waitFor({ state: 'detached' });
    await page.getByTestId('switch-tag-search').fill('v1.3.0');
    await page.getByTestId('ref-tag-v1.3.0').click();
    assert.equal(await page.getByTestId('switch-ref').inputValue(), 'v1.3.0');
    await page.screenshot({
      path: `${process.env.NIXSPACE_SCREENSHOTS ?? '/tmp'}/nixspace-e2e-switch-refs.png`,
    });
    await context.close();
  });
});
