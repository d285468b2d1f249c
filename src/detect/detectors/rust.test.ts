import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { detectEnvironment } from '../detect.js';
import { memoryRepoFiles } from '../repo-files.js';

const cargo = '[package]\nname = "x"\nversion = "0.1.0"\n';

async function rust(files: Record<string, string>) {
  const { spec, diagnostics } = await detectEnvironment(memoryRepoFiles(files));
  return { toolchain: spec.toolchains.find((t) => t.name === 'rust'), diagnostics };
}

describe('rust detector', () => {
  it('reads a legacy rust-toolchain file that holds TOML', async () => {
    const { toolchain } = await rust({
      'Cargo.toml': cargo,
      'rust-toolchain': '[toolchain]\nchannel = "nightly-2026-07-19"\ncomponents = ["rustc-dev"]\n',
    });
    assert.equal(toolchain?.version, 'nightly-2026-07-19');
    assert.deepEqual(toolchain?.source, { file: 'rust-toolchain', line: 2 });
  });

  it('reads a legacy rust-toolchain file that holds a bare channel', async () => {
    assert.equal(
      (await rust({ 'Cargo.toml': cargo, 'rust-toolchain': 'beta\n' })).toolchain?.version,
      'beta',
    );
  });

  it('reads rust-toolchain.toml', async () => {
    const { toolchain } = await rust({
      'Cargo.toml': cargo,
      'rust-toolchain.toml': '[toolchain]\nchannel = "1.90.0"\n',
    });
    assert.equal(toolchain?.version, '1.90.0');
    assert.equal(toolchain?.resolution, 'exact');
  });

  it('falls back to the workspace rust-version, then to stable', async () => {
    const ws = await rust({
      'Cargo.toml': '[workspace]\nmembers = ["a"]\n[workspace.package]\nrust-version = "1.89"\n',
    });
    assert.equal(ws.toolchain?.version, '1.89');
    assert.equal(ws.toolchain?.resolution, 'minimum');
    const plain = await rust({ 'Cargo.toml': cargo });
    assert.equal(plain.toolchain?.version, 'stable');
  });

  it('warns when the pinned toolchain is older than the MSRV', async () => {
    const { diagnostics } = await rust({
      'Cargo.toml': `${cargo}rust-version = "1.85"\n`,
      'rust-toolchain.toml': '[toolchain]\nchannel = "1.80"\n',
    });
    assert.ok(diagnostics.some((d) => d.code === 'conflicting-pins'));
  });

  it('turns a malformed Cargo.toml into a diagnostic with a line', async () => {
    const { toolchain, diagnostics } = await rust({ 'Cargo.toml': '[package]\nname = "x\n' });
    assert.equal(toolchain?.version, 'stable');
    const d = diagnostics.find((x) => x.code === 'malformed-manifest');
    assert.equal(d?.file, 'Cargo.toml');
    assert.equal(d?.line, 2);
  });
});
