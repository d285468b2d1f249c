import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { detectEnvironment } from '../detect.js';
import { memoryRepoFiles } from '../repo-files.js';
import { makeTargets } from './jobs.js';

describe('jobs detector', () => {
  it('lists explicit Makefile targets only', () => {
    const text =
      '.PHONY: build test\nCC := gcc\nVAR = a:b\nbuild: deps\n\tgo build\ntest lint:\n\tgo test\n%.o: %.c\n\tcc\ndeps:\n';
    assert.deepEqual(
      makeTargets(text).map((t) => t.name),
      ['build', 'test', 'lint', 'deps'],
    );
  });

  it('runs package.json scripts through the detected package manager', async () => {
    const { spec } = await detectEnvironment(
      memoryRepoFiles({
        'package.json': JSON.stringify({ packageManager: 'pnpm@10.0.0', scripts: { dev: 'vite' } }),
      }),
    );
    assert.deepEqual(
      spec.jobs.map((j) => j.command),
      ['pnpm run dev'],
    );
  });

  it('offers the default make target when a Makefile exists but cannot be read', async () => {
    const { spec } = await detectEnvironment(
      memoryRepoFiles({ 'go.mod': 'module x\ngo 1.26\n' }, [{ name: 'Makefile', kind: 'file' }]),
    );
    assert.deepEqual(
      spec.jobs.map((j) => [j.kind, j.command]),
      [['make', 'make']],
    );
  });
});
