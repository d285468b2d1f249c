import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { NixSpaceError } from '../../errors.js';
import { CODE_SERVER_VERSION, CodeServerInstaller, hostRequirements } from './code-server-install.js';

describe('installing code-server', () => {
  let root = '';

  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'nixspace-ide-install-'));
  });

  after(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('refuses to build without libkrb5-dev and names the package to install', async () => {
    // libkrb5-dev is installed on the test machines, so its absence is simulated: the check
    // answers "missing" while every other requirement is the real host check.
    const requirements = hostRequirements.map((requirement) =>
      requirement.debianPackage === 'libkrb5-dev'
        ? { ...requirement, present: async () => false }
        : requirement,
    );
    const dir = join(root, 'no-krb5');
    const installer = new CodeServerInstaller({ dir, requirements });
    await assert.rejects(installer.ensure(), (error: unknown) => {
      assert.ok(error instanceof NixSpaceError);
      assert.equal(error.code, 'IDE_UNAVAILABLE');
      assert.match(error.message, /libkrb5-dev/);
      assert.match(error.message, /apt-get install -y libkrb5-dev/);
      return true;
    });
    assert.equal(existsSync(dir), false, 'nothing was written');
  });

  it('does not take a half-finished installation for a finished one', async () => {
    const dir = join(root, 'half');
    const installer = new CodeServerInstaller({ dir });
    // The tree is there but the marker written last is not: an install cut off before its end.
    await mkdir(join(installer.root, 'app', 'node_modules', 'code-server', 'out', 'node'), {
      recursive: true,
    });
    await writeFile(
      join(installer.root, 'app', 'node_modules', 'code-server', 'out', 'node', 'entry.js'),
      '',
    );
    assert.equal(await installer.installed(), undefined);
    await writeFile(join(installer.root, 'installed.json'), JSON.stringify({ version: '0.0.1' }));
    assert.equal(await installer.installed(), undefined, 'another version does not count');
    assert.deepEqual(await readdir(dir), [`code-server-${CODE_SERVER_VERSION}`]);
  });
});
