// The sandbox as a boundary, end to end: from the terminal of a running workspace (what its owner,
// an editor link or a repository's install script gets), the attacks that took the host before —
// host root through /proc/sys, another user's private mirror, the host's secrets and NixSpace's
// own keys — all fail, and what the workspace writes belongs to its own unprivileged user.

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { makeRepo } from '../support/git-fixtures.js';
import { type GitHttpServer, startGitHttpServer } from '../support/git-http-server.js';
import {
  asAnotherUser,
  createRunningWorkspace,
  openTerminal,
  startTestServer,
  type TestServer,
  waitForStatus,
} from '../support/nixspace-server.js';

const exec = promisify(execFile);

describe('the sandbox as a boundary, from a workspace terminal', () => {
  let git: GitHttpServer;
  let server: TestServer;

  before(async () => {
    git = await startGitHttpServer();
    await makeRepo(git.root, 'mine.git', { files: { 'README.md': 'mine\n' } });
    await makeRepo(git.root, 'private.git', { files: { 'secret.txt': 'private-repo-content\n' } });
    server = await startTestServer();
  });

  after(async () => {
    await server?.close();
    await git?.close();
  });

  /** Runs a script in the workspace's terminal and resolves with what it printed between markers. */
  async function inTerminal(id: string, script: string): Promise<string> {
    const terminal = await openTerminal(server, id);
    try {
      terminal.type(`echo BEGIN-$((1+1)); ${script}; echo END-$((2+2))\r`);
      await terminal.waitFor((t) => t.output.includes('END-4'), 20_000);
      const output = terminal.output.replace(/\r/g, '');
      return output.slice(output.indexOf('BEGIN-2') + 'BEGIN-2'.length, output.lastIndexOf('END-4'));
    } finally {
      terminal.close();
    }
  }

  it("reaches neither host root, another user's mirror, the host's secrets nor the server's keys", async () => {
    // Another user's workspace of a private repository: its mirror is on this host.
    await createRunningWorkspace(await asAnotherUser(server, 'other@example.test'), git.url('private.git'));
    const mirrors = join(server.dataDir, 'mirrors');
    const mirrorNames = await readdir(mirrors);
    assert.ok(mirrorNames.length >= 1, 'the private mirror is on the host');

    const id = await createRunningWorkspace(server, git.url('mine.git'));
    const corePattern = await readFile('/proc/sys/kernel/core_pattern', 'utf8');
    const output = await inTerminal(
      id,
      [
        'id -u',
        'echo "|/bin/sh -c touch /tmp/pwned" > /proc/sys/kernel/core_pattern 2>/dev/null && echo WROTE-CORE-PATTERN',
        `for m in ${mirrorNames.map((name) => join(mirrors, name)).join(' ')}; do [ -e "$m" ] && ls "$m" | grep -q . && echo "SEES-MIRROR $m"; done`,
        `ls ${server.dataDir} 2>/dev/null | grep -v -e '^mirrors$' -e '^workspaces$' -e '^cache$' -e '^run$' | sed 's/^/SEES-DATA /'`,
        'cat /etc/shadow 2>/dev/null | grep -q : && echo READ-SHADOW',
        'ls /root /home 2>/dev/null && echo SEES-HOMES',
        'touch ~/made-inside',
      ].join('; '),
    );
    assert.doesNotMatch(output, /WROTE-CORE-PATTERN|SEES-|READ-SHADOW/, output);
    assert.match(output, /^1000$/m, 'the workspace user is uid 1000 inside, not root');
    assert.equal(await readFile('/proc/sys/kernel/core_pattern', 'utf8'), corePattern);

    // On the host what it wrote belongs to an unprivileged uid, the same as its checkout's.
    const workspaceDir = server.nixspace.workspaces.workspaceDir(id);
    const made = await stat(join(workspaceDir, 'home', 'made-inside'));
    const checkout = await stat(join(workspaceDir, 'repo', 'README.md'));
    assert.ok(made.uid >= 65536, `host uid ${made.uid} is not a host account's`);
    assert.equal(made.uid, checkout.uid);
  });

  it('hands the files of a workspace made before its programs ran unprivileged to its user at start', async () => {
    const id = await createRunningWorkspace(server, git.url('mine.git'));
    await server.api(`/api/workspaces/${id}/stop`, { method: 'POST' });
    await waitForStatus(server, id, ['stopped']);
    // What an earlier NixSpace left: every file root's.
    const workspaceDir = server.nixspace.workspaces.workspaceDir(id);
    await exec('chown', ['-R', '0:0', workspaceDir]);
    await server.api(`/api/workspaces/${id}/start`, { method: 'POST' });
    await waitForStatus(server, id, ['running']);
    const output = await inTerminal(id, 'echo edited >> README.md && echo EDITED');
    assert.match(output, /^EDITED$/m, output);
    assert.notEqual((await stat(join(workspaceDir, 'repo', 'README.md'))).uid, 0);
  });
});
