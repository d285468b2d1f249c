import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { detectEnvironment } from '../detect.js';
import { memoryRepoFiles } from '../repo-files.js';
import { resolveNodeSpec } from './node.js';

const pkg = (extra: Record<string, unknown> = {}) => JSON.stringify({ name: 'app', ...extra }, null, 2);

async function node(files: Record<string, string>) {
  const { spec, diagnostics } = await detectEnvironment(memoryRepoFiles(files));
  return {
    toolchain: spec.toolchains.find((t) => t.name === 'node'),
    pm: spec.packageManagers.find((p) => p.toolchain === 'node'),
    setup: spec.setup.filter((s) => s.toolchain === 'node').map((s) => s.command),
    spec,
    diagnostics,
  };
}

describe('node detector', () => {
  it('resolves lts/* in .node-version to the current LTS major', async () => {
    const { toolchain } = await node({ 'package.json': pkg(), '.node-version': 'lts/*\n' });
    assert.equal(toolchain?.version, '24');
    assert.equal(toolchain?.requested, 'lts/*');
    assert.deepEqual(toolchain?.source, { file: '.node-version', line: 1 });
  });

  it('reads v24 in .nvmrc as major 24', async () => {
    const { toolchain } = await node({ 'package.json': pkg(), '.nvmrc': 'v24\n' });
    assert.equal(toolchain?.version, '24');
    assert.equal(toolchain?.resolution, 'exact');
  });

  it('resolves the lts/krypton codename to 24', async () => {
    const { toolchain } = await node({ 'package.json': pkg(), '.nvmrc': 'lts/krypton' });
    assert.equal(toolchain?.version, '24');
    assert.equal(toolchain?.resolution, 'alias');
  });

  it('knows every codename, `node` and `lts/-1`', () => {
    assert.deepEqual(resolveNodeSpec('Hydrogen'), { kind: 'pin', version: '18', resolution: 'alias' });
    assert.deepEqual(resolveNodeSpec('lts/jod'), { kind: 'pin', version: '22', resolution: 'alias' });
    assert.deepEqual(resolveNodeSpec('lts/-1'), { kind: 'pin', version: '22', resolution: 'alias' });
    assert.deepEqual(resolveNodeSpec('node'), { kind: 'pin', version: '26', resolution: 'alias' });
    assert.equal(resolveNodeSpec('lts/zebra').kind, 'unknown');
  });

  it('reports an unknown codename and falls back to the next pin', async () => {
    const { toolchain, diagnostics } = await node({
      'package.json': pkg({ engines: { node: '>=20' } }),
      '.nvmrc': 'lts/zebra',
    });
    assert.equal(toolchain?.version, '24');
    assert.ok(diagnostics.some((d) => d.code === 'unknown-version' && d.file === '.nvmrc' && d.line === 1));
  });

  it('picks a major inside engines.node when nothing pins', async () => {
    const { toolchain } = await node({ 'package.json': pkg({ engines: { node: '>=20.12 <21 || 22' } }) });
    assert.equal(toolchain?.version, '22');
    assert.equal(toolchain?.resolution, 'range');
  });

  it('names the disagreeing files and the winner when pins conflict', async () => {
    const { toolchain, diagnostics } = await node({
      'package.json': pkg({ engines: { node: '>=26' } }),
      '.nvmrc': '22',
      '.tool-versions': 'nodejs 24.13.0\n',
    });
    assert.equal(toolchain?.version, '22');
    const conflict = diagnostics.find((d) => d.code === 'conflicting-pins');
    assert.ok(conflict, 'a conflicting-pins diagnostic');
    assert.match(conflict.message, /\.nvmrc:1 \(22\)/);
    assert.match(conflict.message, /\.tool-versions:1 \(24\.13\.0\)/);
    assert.match(conflict.message, /package\.json/);
    assert.match(conflict.message, /using \.nvmrc:1 \(22\)/);
  });

  it('does not call a codename and its full version a conflict', async () => {
    const { diagnostics } = await node({
      'package.json': pkg({ engines: { node: '24.x' } }),
      '.nvmrc': 'lts/krypton',
      '.tool-versions': 'ruby 4.0.3\nnodejs 24.13.0\n',
    });
    assert.equal(diagnostics.filter((d) => d.code === 'conflicting-pins').length, 0);
  });

  it('takes the package manager from packageManager and warns about a foreign lock file', async () => {
    const { pm, diagnostics, setup } = await node({
      'package.json': pkg({ packageManager: 'pnpm@10.34.5+sha512.abc' }),
      'pnpm-lock.yaml': "lockfileVersion: '9.0'\n",
      'package-lock.json': '{}',
    });
    assert.equal(pm?.name, 'pnpm');
    assert.equal(pm?.version, '10.34.5');
    assert.deepEqual(setup, ['pnpm install --frozen-lockfile']);
    assert.ok(
      diagnostics.some(
        (d) => d.code === 'conflicting-package-managers' && /package-lock\.json/.test(d.message),
      ),
    );
  });

  it('tells yarn berry from yarn classic', async () => {
    const berry = await node({
      'package.json': pkg(),
      'yarn.lock': '__metadata:\n  version: 8\n',
      '.yarnrc.yml': 'yarnPath: .yarn/releases/yarn-4.18.0.cjs\n',
    });
    assert.equal(berry.pm?.variant, 'berry');
    assert.equal(berry.pm?.version, '4.18.0');
    assert.deepEqual(berry.setup, ['yarn install --immutable']);
    const classic = await node({ 'package.json': pkg(), 'yarn.lock': '# yarn lockfile v1\n' });
    assert.equal(classic.pm?.variant, 'classic');
    assert.deepEqual(classic.setup, ['yarn install --frozen-lockfile']);
  });

  it('defaults to npm and the current LTS', async () => {
    const { pm, toolchain, setup } = await node({ 'package.json': pkg() });
    assert.equal(pm?.name, 'npm');
    assert.equal(toolchain?.version, '24');
    assert.equal(toolchain?.resolution, 'default');
    // No lockfile: the install leaves none behind in the checkout.
    assert.deepEqual(setup, ['npm install --no-package-lock']);
  });

  it('turns a malformed package.json into a diagnostic with file and line', async () => {
    const { toolchain, diagnostics } = await node({
      'package.json': '{\n  "name": "app",\n  "version": "1.0.0"\n  "scripts": {}\n}\n',
    });
    assert.equal(toolchain?.name, 'node');
    const d = diagnostics.find((x) => x.code === 'malformed-manifest');
    assert.equal(d?.file, 'package.json');
    assert.equal(d?.severity, 'error');
    assert.ok(d?.line === 3 || d?.line === 4, `line ${d?.line}`);
    assert.equal(
      diagnostics.filter((x) => x.code === 'malformed-manifest').length,
      1,
      'reported once, not per detector',
    );
  });

  it('warns about an end-of-life Node version', async () => {
    const { diagnostics } = await node({ 'package.json': pkg(), '.nvmrc': '14' });
    assert.ok(diagnostics.some((d) => d.code === 'unsupported-version' && d.file === '.nvmrc'));
  });
});
