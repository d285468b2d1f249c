// Jobs in headless Chromium, as a person uses them: open a workspace, open Jobs, run one of the
// repository's make targets and a typed command, read the coloured output in the log viewer; run
// a command on an SSH host from the jobs page.

import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { launchBrowser, type TestBrowser } from '../support/browser.js';
import { makeRepo } from '../support/git-fixtures.js';
import { type GitHttpServer, startGitHttpServer } from '../support/git-http-server.js';
import { startTestServer, type TestServer, waitForStatus } from '../support/nixspace-server.js';
import { startSshd, type TestSshd } from '../support/sshd.js';

const webDist = fileURLToPath(new URL('../../web/dist/index.html', import.meta.url));

describe('jobs in the browser', () => {
  let gitServer: GitHttpServer;
  let server: TestServer;
  let browser: TestBrowser;
  let sshd: TestSshd;
  let workspace: string;

  before(async () => {
    assert.ok(existsSync(webDist), 'the UI is built (npm run build:web)');
    gitServer = await startGitHttpServer();
    await makeRepo(gitServer.root, 'colours.git', {
      files: { Makefile: "hello:\n\t@printf '\\033[32mgreen hello\\033[0m\\n'\n\t@echo to-stderr >&2\n" },
    });
    server = await startTestServer();
    sshd = await startSshd();
    const created = await server.api<{ id: string }>('/api/workspaces', {
      method: 'POST',
      body: { repoUrl: gitServer.url('colours.git') },
    });
    workspace = created.body.id;
    await waitForStatus(server, workspace, ['running']);
    browser = await launchBrowser();
  });

  after(async () => {
    await browser?.close();
    await server?.close();
    await sshd?.close();
    await gitServer?.close();
  });

  it('runs a make target and a command from the workspace view and shows their output', async () => {
    const context = await browser.browser.newContext({ viewport: { width: 1400, height: 900 } });
    const page = await context.newPage();
    await page.goto(await server.nixspace.ownerLoginLink());
    await page.waitForURL(`${server.url}/`);
    await page.goto(`${server.url}/w/${workspace}`);
    await page.getByTestId('jobs-toggle').click();
    const panel = page.getByTestId('jobs-panel');
    await panel.getByTestId('suggested-job').filter({ hasText: 'hello' }).click();

    const viewer = panel.getByTestId('log-viewer');
    const green = viewer.locator('[data-stream="stdout"] .log-row-text > span', { hasText: 'green hello' });
    await green.waitFor({ timeout: 15_000 });
    // The rows are drawn again as output arrives: the colour is read from the row that stands.
    await page.waitForFunction(
      () =>
        [
          ...document.querySelectorAll(
            '[data-testid="log-viewer"] [data-stream="stdout"] .log-row-text > span',
          ),
        ]
          .filter((el) => el.textContent?.includes('green hello'))
          .some((el) => el.isConnected && getComputedStyle(el).color === 'rgb(87, 171, 90)'),
      undefined,
      { timeout: 15_000 },
    );
    await viewer.locator('[data-stream="stderr"]', { hasText: 'to-stderr' }).waitFor();
    await viewer.locator('[data-stream="system"]', { hasText: 'job succeeded' }).waitFor();
    await panel.getByTestId('job-status').filter({ hasText: 'Succeeded' }).waitFor();

    // While a job runs, the run controls wait; 100k lines stay a handful of DOM rows.
    await panel.getByTestId('job-command').fill('sleep 1; seq 1 100000');
    await panel.getByTestId('job-run').click();
    await panel.getByTestId('job-status').filter({ hasText: 'Running' }).waitFor();
    assert.equal(await panel.getByTestId('job-run').isDisabled(), true);
    assert.equal(await panel.getByTestId('suggested-job').first().isDisabled(), true);
    await panel.getByTestId('job-status').filter({ hasText: 'Succeeded' }).waitFor({ timeout: 30_000 });
    await page.waitForFunction(
      () => document.querySelector('[data-testid="log-line-count"]')?.textContent?.startsWith('100001'),
      undefined,
      { timeout: 15_000 },
    );
    await viewer.locator('[data-testid="log-row"]', { hasText: /^\s*100000$/ }).waitFor();
    const rendered = await viewer.getByTestId('log-row').count();
    assert.ok(rendered < 200, `only the visible rows are in the DOM (${rendered})`);
    assert.equal(await panel.getByTestId('job-run').isDisabled(), false);

    // History lists both, newest first.
    await panel.getByTestId('job-history-refresh').click();
    await page.waitForFunction(
      () => document.querySelectorAll('[data-testid="job-history-row"]').length >= 2,
    );
    assert.match((await panel.getByTestId('job-history-row').first().textContent()) ?? '', /seq 1 100000/);
    await page.screenshot({ path: `${process.env.NIXSPACE_SCREENSHOTS ?? '/tmp'}/nixspace-e2e-jobs.png` });

    await page.keyboard.press('Control+Shift+S');
    await page.getByTestId('settings-modal').and(page.locator('[open]')).waitFor();
    await context.close();
  });

  it('runs a command on an SSH host from the jobs page', async () => {
    const added = await server.api<{ id: string; name: string }>('/api/ssh-hosts', {
      method: 'POST',
      body: {
        name: 'loopback-sshd',
        host: sshd.host,
        port: sshd.port,
        username: sshd.username,
        privateKey: sshd.privateKey,
        knownHosts: sshd.knownHosts,
      },
    });
    assert.equal(added.status, 201);
    const context = await browser.browser.newContext();
    const page = await context.newPage();
    await page.goto(await server.nixspace.ownerLoginLink());
    await page.waitForURL(`${server.url}/`);
    await page.getByTestId('jobs-link').click();
    await page.getByTestId('ssh-host').filter({ hasText: 'loopback-sshd' }).waitFor();
    await page.getByTestId('job-command').fill('echo over-ssh-$((40+2))');
    await page.getByTestId('job-run').click();
    await page
      .getByTestId('log-viewer')
      .locator('[data-stream="stdout"]', { hasText: 'over-ssh-42' })
      .waitFor({ timeout: 15_000 });
    await page.getByTestId('job-status').filter({ hasText: 'Succeeded' }).waitFor();
    await context.close();
  });
});
