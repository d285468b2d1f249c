import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { nodeWant } from './registry-releases.js';
import { RegistryToolchains } from './registry-toolchains.js';

describe('the toolchain cache', () => {
  let dir = '';

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'nixspace-toolchains-'));
  });

  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  /** A release tree as a finished fetch leaves it; `marker` false for one cut off before its end. */
  async function tree(version: string, marker = true): Promise<string> {
    const root = join(dir, `node-${version}`);
    await mkdir(join(root, 'node_modules', 'node', 'bin'), { recursive: true });
    await writeFile(join(root, 'node_modules', 'node', 'bin', 'node'), '#!/bin/sh\n', { mode: 0o755 });
    if (marker) await writeFile(join(root, 'installed.json'), JSON.stringify({ tool: 'node', version }));
    return root;
  }

  it('does not take a half-finished release for a finished one', async () => {
    const toolchains = new RegistryToolchains({ dir });
    await tree('22.1.0', false);
    assert.equal(await toolchains.installed('node', '22.1.0'), undefined);
    const root = await tree('22.2.0');
    assert.equal(await toolchains.installed('node', '22.2.0'), root);
  });

  it('uses a release already in the cache without asking the registry, its bin first on PATH', async () => {
    const toolchains = new RegistryToolchains({ dir });
    const root = await tree('22.3.0');
    const want = nodeWant({ name: 'node', version: '22', resolution: 'exact', source: { file: '.nvmrc' } });
    const [one, two] = await Promise.all([
      toolchains.ensure(want, '22.3.0'),
      toolchains.ensure(want, '22.3.0'),
    ]);
    assert.deepEqual(one, two, 'concurrent requests share one answer');
    assert.equal(one?.fetched, false);
    assert.equal(one?.root, root);
    assert.equal(one?.binDir, join(root, 'node_modules', 'node', 'bin'));
  });
});
