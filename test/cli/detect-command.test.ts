// `nixspace detect` as a person runs it: a real process over real repository files.

import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { repoRoot, runCli } from '../support/cli.js';

const corpusRepo = join(repoRoot, '..', 'shared', 'corpus', 'lobsters__lobsters');
const nixspace = (...args: string[]) => runCli(args);

describe('nixspace detect', () => {
  let scratch: string;
  before(async () => {
    scratch = await mkdtemp(join(tmpdir(), 'nixspace-detect-cli-'));
  });
  after(async () => {
    await rm(scratch, { recursive: true, force: true });
  });

  it('prints each fact of a real repository with the file it came from', async () => {
    const { code, stdout } = await nixspace('detect', corpusRepo);
    assert.equal(code, 0);
    assert.match(stdout, /^ {2}ruby\s+4\.0\.0\s.*(\.ruby-version|Gemfile)/m);
    assert.match(stdout, /bundler.*Gemfile\.lock/);
    assert.match(stdout, /spec hash [0-9a-f]{64}/);
  });

  it('prints the EnvSpec as JSON with --json', async () => {
    const { code, stdout } = await nixspace('detect', corpusRepo, '--json');
    assert.equal(code, 0);
    const result = JSON.parse(stdout) as {
      spec: { toolchains: { name: string; source: { file: string } }[] };
      diagnostics: unknown[];
    };
    const ruby = result.spec.toolchains.find((t) => t.name === 'ruby');
    assert.ok(ruby, 'ruby is detected');
    assert.ok(ruby.source.file.length > 0, 'the toolchain names its source file');
    assert.ok(Array.isArray(result.diagnostics));
  });

  it('names a malformed manifest with its line', async () => {
    await writeFile(join(scratch, 'package.json'), '{\n  "name": "app",\n  "scripts": {\n}\n');
    const { code, stdout } = await nixspace('detect', scratch);
    assert.equal(code, 0, 'a broken manifest is a diagnostic, not a crash');
    assert.match(stdout, /malformed-manifest\s+package\.json:\d+: invalid JSON/);
  });

  it('refuses a path that is not a directory, naming it', async () => {
    const missing = join(scratch, 'nope');
    const { code, stderr } = await nixspace('detect', missing);
    assert.equal(code, 1);
    assert.match(stderr, new RegExp(`not a directory: ${missing}`));
  });
});
