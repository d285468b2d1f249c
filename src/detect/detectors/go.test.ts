import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { detectEnvironment } from '../detect.js';
import { memoryRepoFiles } from '../repo-files.js';

async function go(files: Record<string, string>) {
  const { spec, diagnostics } = await detectEnvironment(memoryRepoFiles(files));
  return { toolchain: spec.toolchains.find((t) => t.name === 'go'), spec, diagnostics };
}

describe('go detector', () => {
  it('finds the go directive on the last line of go.mod', async () => {
    const mod = 'module example.com/x\n\nrequire (\n\tgithub.com/a/b v1.0.0\n)\n\ngo 1.23.0';
    const { toolchain } = await go({ 'go.mod': mod });
    assert.equal(toolchain?.version, '1.23.0');
    assert.equal(toolchain?.resolution, 'minimum');
    assert.deepEqual(toolchain?.source, { file: 'go.mod', line: 7 });
  });

  it('prefers the toolchain line over the go directive', async () => {
    const { toolchain, diagnostics } = await go({
      'go.mod': 'module x\n\ngo 1.22.5\n\ntoolchain go1.22.6\n',
    });
    assert.equal(toolchain?.version, '1.22.6');
    assert.equal(toolchain?.requested, 'go1.22.6');
    assert.equal(diagnostics.length, 0);
  });

  it('prefers .go-version, agreeing with go.work', async () => {
    const { toolchain, diagnostics } = await go({
      'go.mod': 'module x\ngo 1.26\ntoolchain go1.26.6\n',
      'go.work': 'go 1.26\n\ntoolchain go1.26.6\n\nuse (\n\t.\n)\n',
      '.go-version': '1.26.6\n',
    });
    assert.equal(toolchain?.version, '1.26.6');
    assert.equal(toolchain?.source.file, '.go-version');
    assert.equal(diagnostics.length, 0);
  });

  it('reports a .go-version older than the go directive requires', async () => {
    const { diagnostics } = await go({ 'go.mod': 'module x\ngo 1.25.0\n', '.go-version': '1.24.1' });
    const d = diagnostics.find((x) => x.code === 'conflicting-pins');
    assert.match(
      d?.message ?? '',
      /\.go-version:1 \(1\.24\.1\) vs go\.mod:2 \(1\.25\.0\); using \.go-version/,
    );
  });
});
