import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { promisify } from 'node:util';
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

  it('quotes script names so sh runs exactly that script (issue 11: a script named "x; touch /tmp/p" ran touch)', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'nixspace-jobs-quote-'));
    try {
      const planted = join(dir, 'planted');
      const name = `x; touch ${planted} #`;
      const manifest = JSON.stringify({
        name: 'q',
        version: '1.0.0',
        scripts: { [name]: 'echo RAN-$npm_lifecycle_event' },
      });
      await writeFile(join(dir, 'package.json'), manifest);
      const { spec } = await detectEnvironment(memoryRepoFiles({ 'package.json': manifest }));
      const job = spec.jobs.find((j) => j.name === name);
      assert.ok(job, JSON.stringify(spec.jobs));
      const { stdout } = await promisify(execFile)('/bin/sh', ['-c', job.command], { cwd: dir });
      assert.match(stdout, new RegExp(`RAN-x; touch ${planted}`), 'the script of that exact name ran');
      assert.equal(existsSync(planted), false, `the command ${job.command} ran touch`);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('keeps plain script and target names readable, and offers no job for a name npm would read as an option', async () => {
    const { spec } = await detectEnvironment(
      memoryRepoFiles({
        Makefile: 'build:\n\techo b\n',
        'package.json': JSON.stringify({ scripts: { 'test:unit': 'x', '--script-shell=./evil': 'y' } }),
      }),
    );
    assert.deepEqual(
      spec.jobs.map((j) => j.command),
      ['make build', 'npm run test:unit'],
    );
  });
});
