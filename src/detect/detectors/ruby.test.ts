import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { detectEnvironment } from '../detect.js';
import { memoryRepoFiles } from '../repo-files.js';

const lock = (ruby: string | null, bundler = '4.0.8') =>
  `GEM\n  remote: https://rubygems.org/\n  specs:\n    rake (13.0.0)\n\nPLATFORMS\n  ruby\n\nDEPENDENCIES\n  rake\n${ruby ? `\nRUBY VERSION\n   ruby ${ruby}\n` : ''}\nBUNDLED WITH\n   ${bundler}\n`;

async function ruby(files: Record<string, string>) {
  const { spec, diagnostics } = await detectEnvironment(memoryRepoFiles(files));
  return {
    toolchain: spec.toolchains.find((t) => t.name === 'ruby'),
    pm: spec.packageManagers.find((p) => p.toolchain === 'ruby'),
    diagnostics,
  };
}

describe('ruby detector', () => {
  it('reads .ruby-version, and bundler from BUNDLED WITH', async () => {
    const { toolchain, pm } = await ruby({
      Gemfile: 'source "https://rubygems.org"\nruby file: ".ruby-version"\n',
      'Gemfile.lock': lock('4.0.0p0', '4.0.3'),
      '.ruby-version': '4.0.0\n',
    });
    assert.equal(toolchain?.version, '4.0.0');
    assert.deepEqual(toolchain?.source, { file: '.ruby-version', line: 1 });
    assert.equal(pm?.name, 'bundler');
    assert.equal(pm?.version, '4.0.3');
  });

  it('reads Gemfile.lock RUBY VERSION when no pin file exists', async () => {
    const { toolchain } = await ruby({ Gemfile: 'gem "rake"\n', 'Gemfile.lock': lock('3.4.4p10') });
    assert.equal(toolchain?.version, '3.4.4');
    assert.equal(toolchain?.source.file, 'Gemfile.lock');
  });

  it('prefers an exact .tool-versions pin over a Gemfile range', async () => {
    const { toolchain, diagnostics } = await ruby({
      Gemfile: "source 'x'\nruby '>=3.4.0'\n",
      '.tool-versions': 'ruby 4.0.6\n',
    });
    assert.equal(toolchain?.version, '4.0.6');
    assert.equal(diagnostics.filter((d) => d.code === 'conflicting-pins').length, 0);
  });

  it('reads an exact Gemfile ruby line', async () => {
    const { toolchain } = await ruby({ Gemfile: 'source "x"\nruby "3.3.6"\n' });
    assert.equal(toolchain?.version, '3.3.6');
    assert.deepEqual(toolchain?.source, { file: 'Gemfile', line: 2 });
  });

  it('reports .ruby-version and Gemfile.lock disagreeing', async () => {
    const { toolchain, diagnostics } = await ruby({
      Gemfile: 'gem "rake"\n',
      'Gemfile.lock': lock('3.3.1'),
      '.ruby-version': 'ruby-3.4.1',
    });
    assert.equal(toolchain?.version, '3.4.1');
    const d = diagnostics.find((x) => x.code === 'conflicting-pins');
    assert.match(d?.message ?? '', /\.ruby-version.*Gemfile\.lock.*using \.ruby-version/);
  });

  it('defaults to the newest Ruby for a gem without pins', async () => {
    const { toolchain } = await ruby({ Gemfile: 'gemspec\n' });
    assert.equal(toolchain?.resolution, 'default');
    assert.equal(toolchain?.version, '4.0');
  });
});
