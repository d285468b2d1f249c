// A checkout is the workspace's to write, so its symlinks point wherever it likes: detection on
// the host reads none of them, names each one it skips, and never returns what they point at.

import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { git, makeRepo } from '../../test/support/git-fixtures.js';
import { secretMarkers, symlinkedSecretsRepo } from '../../test/support/hostile-repo.js';
import { detectDirectory } from './detect.js';

describe('detection over a checkout with symlinks out of it', () => {
  let root: string;
  let checkout: string;

  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'nixspace-detect-links-'));
    const repo = await makeRepo(root, 'hostile.git', await symlinkedSecretsRepo(join(root, 'host')));
    checkout = join(root, 'checkout');
    await git(['clone', '--quiet', repo.dir, checkout]);
  });
  after(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('reads no symlinked pin file, Makefile or subproject, and names each one it skipped', async () => {
    const result = await detectDirectory(checkout);
    const text = JSON.stringify(result);
    for (const marker of secretMarkers)
      assert.ok(!text.includes(marker), `detection returned ${marker}: ${text}`);
    assert.ok(!result.spec.jobs.some((j) => j.name === 'root'), 'no job from the linked Makefile');
    assert.ok(
      result.spec.jobs.some((j) => j.name === 'build'),
      'the real package.json is still read',
    );
    const unread = result.diagnostics.filter((d) => d.code === 'unread-file').map((d) => d.message);
    assert.ok(unread.includes('`.nvmrc` is a symlink: ignored'), unread.join('\n'));
    assert.ok(unread.includes('`Makefile` is a symlink: ignored'), unread.join('\n'));
    assert.ok(unread.includes('`api/.go-version` is a symlink: ignored'), unread.join('\n'));
    // The node version is not taken from the linked .nvmrc.
    const node = result.spec.toolchains.find((t) => t.name === 'node');
    assert.notEqual(node?.source.file, '.nvmrc');
  });
});
