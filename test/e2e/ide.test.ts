// VS Code beside the terminal, in headless Chromium against real code-server: open a file from
// the explorer, type, save with Ctrl+S, read the new content in the NixSpace terminal and on
// disk, find it again after stop/start, and open the IDE full-page from the workspace list.

import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { defaultIdeDir } from '../../src/config.js';
import { WorkspaceTokens } from '../../src/services/access/workspace-tokens.js';
import { CodeServerInstaller } from '../../src/services/ide/code-server-install.js';
import { launchBrowser, type TestBrowser } from '../support/browser.js';
import { terminalShows, workbench } from '../support/e2e-flows.js';
import { makeRepo } from '../support/git-fixtures.js';
import { type GitHttpServer, startGitHttpServer } from '../support/git-http-server.js';
import { startTestServer, type TestServer } from '../support/nixspace-server.js';

const webDist = fileURLToPath(new URL('../../web/dist/index.html', import.meta.url));
const screenshots = process.env.NIXSPACE_SCREENSHOTS ?? '/tmp';

describe('VS Code in the browser', () => {
  let gitServer: GitHttpServer;
  let server: TestServer;
  let browser: TestBrowser;

  before(async () => {
    assert.ok(existsSync(webDist), 'the UI is built (npm run build:web)');
    await new CodeServerInstaller({ dir: defaultIdeDir() }).ensure();
    gitServer = await startGitHttpServer();
    await makeRepo(gitServer.root, 'notes.git', { files: { 'notes.txt': 'first line\n' } });
    server = await startTestServer({ config: { ide: { enabled: true } } });
    browser = await launchBrowser();
  });

  after(async () => {
    await browser?.close();
    await server?.close();
    await gitServer?.close();
  });

  it('edits and saves a file in VS Code, and the terminal and the disk see it, also after stop/start', async () => {
    const context = await browser.browser.newContext({ viewport: { width: 1400, height: 900 } });
    const page = await context.newPage();
    await page.goto(await server.nixspace.ownerLoginLink());
    await page.waitForURL(`${server.url}/`);
    await page.getByTestId('repo-url').fill(gitServer.url('notes.git'));
    await page.getByTestId('create').click();
    await page.waitForURL(/\/w\/[0-9a-f-]{36}$/);
    const id = page.url().split('/').at(-1)!;

    // VS Code and the terminal share the view.
    const ide = await workbench(page);
    await page.getByTestId('terminal').locator('.xterm-rows').waitFor();

    await ide.getByRole('treeitem', { name: 'notes.txt' }).click({ timeout: 30_000 });
    const editor = ide.locator('.monaco-editor .view-lines').first();
    await editor.waitFor();
    await ide.locator('.view-line', { hasText: 'first line' }).first().click();
    await page.keyboard.press('End');
    await page.keyboard.press('Enter');
    await page.keyboard.type('typed in vscode');
    await page.keyboard.press('Control+S');

    const file = join(server.nixspace.workspaces.workspaceDir(id), 'repo', 'notes.txt');
    const deadline = Date.now() + 15_000;
    while (!(await readFile(file, 'utf8')).includes('typed in vscode')) {
      assert.ok(
        Date.now() < deadline,
        `saved content never reached the disk: ${await readFile(file, 'utf8')}`,
      );
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    assert.equal(await readFile(file, 'utf8'), 'first line\ntyped in vscode\n');

    await page.getByTestId('terminal').click();
    await page.keyboard.type('grep -c vscode notes.txt && echo SAW-$(tail -1 notes.txt | tr " " _)');
    await page.keyboard.press('Enter');
    await terminalShows(page, 'SAW-typed_in_vscode');
    await page.screenshot({ path: `${screenshots}/nixspace-e2e-ide.png` });

    // The divider moves with the keyboard (and says where it is); each arrow moves it 5 %.
    const divider = page.getByTestId('split-divider');
    const before = Number(await divider.getAttribute('aria-valuenow'));
    const startWidth = (await page.getByTestId('split-start').boundingBox())!.width;
    await divider.focus();
    await page.keyboard.press('ArrowLeft');
    await page.keyboard.press('ArrowLeft');
    assert.equal(Number(await divider.getAttribute('aria-valuenow')), before - 10);
    const narrower = (await page.getByTestId('split-start').boundingBox())!.width;
    assert.ok(narrower < startWidth - 50, `VS Code pane ${startWidth} → ${narrower} px`);
    // Dragging it with the pointer works too.
    const box = (await divider.boundingBox())!;
    await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
    await page.mouse.down();
    await page.mouse.move(box.x + 200, box.y + box.height / 2, { steps: 5 });
    await page.mouse.up();
    assert.ok((await page.getByTestId('split-start').boundingBox())!.width > narrower + 150);

    // The Environment panel says since when VS Code runs.
    await page.getByTestId('environment-toggle').click();
    const ideRow = page.getByTestId('ide-status-row');
    await ideRow.waitFor();
    assert.match((await ideRow.textContent()) ?? '', /running · since .* · 0 restarts/);
    await page.getByTestId('environment-close').click();

    // Collapsing VS Code leaves the terminal; bringing it back shows the same workbench.
    await page.getByTestId('ide-toggle').click();
    assert.equal(await page.getByTestId('split-start').isHidden(), true);
    await page.getByTestId('ide-toggle').click();
    await ide.locator('.monaco-workbench').waitFor();

    await page.getByTestId('stop-workspace').click();
    await page.getByTestId('start-workspace').first().click();
    await page
      .getByTestId('workspace-status')
      .and(page.locator('[data-status="running"]'))
      .waitFor({ timeout: 30_000 });
    const restored = await workbench(page);
    // VS Code reopens notes.txt and focuses its editor: type into the terminal only after that,
    // and once the terminal has the focus.
    await restored.locator('.view-line', { hasText: 'typed in vscode' }).first().waitFor({ timeout: 30_000 });
    await page.getByTestId('terminal').and(page.locator('[data-state="connected"]')).waitFor();
    await page.getByTestId('terminal').click();
    await page.waitForFunction(() => document.activeElement?.classList.contains('xterm-helper-textarea'));
    await page.keyboard.type('echo AFTER-$(tail -1 notes.txt | tr " " _)');
    await page.keyboard.press('Enter');
    await terminalShows(page, 'AFTER-typed_in_vscode');
    await context.close();
  });

  it('recovers when the IDE answers that its token ran out (a machine that slept past renewals)', async () => {
    const context = await browser.browser.newContext({ viewport: { width: 1280, height: 800 } });
    const page = await context.newPage();
    await page.goto(await server.nixspace.ownerLoginLink());
    await page.waitForURL(`${server.url}/`);
    const created = await server.api<{ id: string }>('/api/workspaces', {
      method: 'POST',
      body: { repoUrl: gitServer.url('notes.git') },
    });
    const id = created.body.id;
    await page.goto(`${server.url}/w/${id}`);
    await workbench(page);
    // The browser now holds an expired token for the IDE (as after a sleep past its expiry);
    // the frame's next load gets 401 TOKEN_EXPIRED from the proxy.
    const keyFile = join(server.dataDir, 'secrets', 'workspace-token.key');
    const expired = await (await WorkspaceTokens.open(keyFile, { ttlSeconds: -60 })).issue({
      holder: 'owner',
      workspaceId: id,
      sessionId: crypto.randomUUID(),
    });
    await context.addCookies([
      { name: 'nixspace_ide', value: expired.token, url: `${server.url}/ide/${id}/`, httpOnly: true },
    ]);
    const refused = await page.evaluate(
      (path) => fetch(path, { redirect: 'manual' }).then((r) => r.status),
      `/ide/${id}/`,
    );
    assert.equal(refused, 401, 'the expired token really is refused');
    const renewed = page.waitForResponse((r) => r.url().endsWith(`/api/workspaces/${id}/ide/token`));
    await page.locator('[data-testid="ide-frame"]').evaluate((frame: HTMLIFrameElement) => {
      frame.contentWindow?.location.reload();
    });
    assert.equal((await renewed).status(), 200);
    await workbench(page);
    await context.close();
  });

  it('opens the IDE full-page from the workspace list with "Launch IDE"', async () => {
    const context = await browser.browser.newContext({ viewport: { width: 1280, height: 800 } });
    const page = await context.newPage();
    await page.goto(await server.nixspace.ownerLoginLink());
    await page.waitForURL(`${server.url}/`);
    const launch = page.getByTestId('launch-ide').first();
    await launch.waitFor({ timeout: 30_000 });
    const [popup] = await Promise.all([context.waitForEvent('page'), launch.click()]);
    await popup.waitForURL(/\/ide\/[0-9a-f-]{36}\/\?folder=/, { timeout: 30_000 });
    await popup.locator('.monaco-workbench').waitFor({ timeout: 60_000 });
    await popup.getByRole('treeitem', { name: 'notes.txt' }).waitFor({ timeout: 30_000 });
    await context.close();
  });
});
