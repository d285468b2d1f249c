// `nixspace shell` in a real terminal: the CLI runs in a pty as it would in a person's terminal
// emulator, relays keystrokes and window size to a shell in a real workspace, and hands the
// terminal back as it found it.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import * as pty from 'node-pty';
import { cliArgv, repoRoot, runCli } from '../support/cli.js';
import { makeRepo } from '../support/git-fixtures.js';
import { type GitHttpServer, startGitHttpServer } from '../support/git-http-server.js';
import { createRunningWorkspace, startTestServer, type TestServer } from '../support/nixspace-server.js';

async function waitUntil(what: string, check: () => boolean, output: () => string): Promise<void> {
  const deadline = Date.now() + 15_000;
  while (!check()) {
    if (Date.now() > deadline)
      throw new Error(`timed out waiting for ${what}; terminal so far:\n${output()}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe('nixspace shell', () => {
  let git: GitHttpServer;
  let server: TestServer;
  let id: string;

  before(async () => {
    git = await startGitHttpServer();
    await makeRepo(git.root, 'app.git');
    server = await startTestServer();
    id = await createRunningWorkspace(server, git.url('app.git'));
  });

  after(async () => {
    await server?.close();
    await git?.close();
  });

  it('runs an interactive shell in the workspace, follows resizes, exits with its status and restores the tty', async () => {
    // The CLI, then what the terminal is like once it is gone.
    const term = pty.spawn(
      '/bin/sh',
      [
        '-c',
        '"$0" "$@"; echo "status=$?"; stty -a',
        process.execPath,
        ...cliArgv(['shell', id.slice(0, 8), '--data-dir', server.dataDir]),
      ],
      { cols: 100, rows: 30, cwd: repoRoot, env: process.env as Record<string, string> },
    );
    let output = '';
    term.onData((data) => {
      output += data;
    });
    const exited = new Promise<number>((resolve) => term.onExit(({ exitCode }) => resolve(exitCode)));
    const seen = () => output;

    await waitUntil('the shell in the workspace', () => /repo/.test(output), seen);
    term.resize(132, 40);
    // The window change reaches the CLI as SIGWINCH, asynchronously: ask until the shell sees it.
    await waitUntil(
      'the new size in the shell',
      () => {
        if (/\b40 132\b/.test(output)) return true;
        term.write('stty size\r');
        return false;
      },
      seen,
    );
    term.write('echo hi-$((6*7)); exit 3\r');
    assert.equal(await exited, 0, output);
    assert.match(output, /hi-42/);
    assert.match(output, /status=3/);
    const after = output.slice(output.indexOf('status=3'));
    // Canonical mode and echo are back on: the CLI left raw mode.
    assert.match(after, /(^|\s)icanon\s/m, output);
    assert.match(after, /(^|\s)echo\s/m, output);
  });

  it('names why a stopped workspace has no shell', async () => {
    await server.api(`/api/workspaces/${id}/stop`, { method: 'POST' });
    const { code, stderr } = await runCli(['shell', id, '--data-dir', server.dataDir]);
    assert.equal(code, 1);
    assert.match(stderr, /CONFLICT: Workspace app is stopped; start it to open a terminal/);
  });
});
