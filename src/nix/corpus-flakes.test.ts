// Every repository of the shared corpus, end to end through the generator: detect, generate,
// and `nix-instantiate --parse` the result. Repos that bring a flake.nix keep theirs (their
// stand-in must parse too); repos whose spec asks for what the pinned nixpkgs cannot supply must
// get the UNSUPPORTED_VERSION error, and the table below says which and why.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { nixInstantiateMissing } from '../../test/support/nix-fixtures.js';
import { detectDirectory } from '../detect/detect.js';
import { NixEnvironmentProvider } from './nix-provider.js';
import { UnsupportedVersionError } from './unsupported-version-error.js';

const corpusDir = new URL('../../../shared/corpus/', import.meta.url).pathname;

/** Repo → the unsupported fact (toolchain or service + version) the error must name. */
const expectedUnsupported: Record<string, string> = {
  BurntSushi__ripgrep: 'rust 1.96', // rust-version above nixpkgs' rustc 1.91
  'etcd-io__etcd': 'go 1.26.6', // Go 1.26 is newer than nixos-25.11
  gogs__gogs: 'go 1.26.0',
  hashicorp__terraform: 'go 1.26.4',
  huginn__huginn: 'ruby 4.0.6', // Ruby 4.0 is newer than nixos-25.11
  lobsters__lobsters: 'ruby 4.0.0',
  'rubygems__rubygems.org': 'ruby 4.0.6',
  outline__outline: 'node 26', // Node 26 is newer than nixos-25.11
  'rust-lang__rustfmt': 'rust nightly-2026-07-19', // nightly needs rust-overlay
};

async function parseNix(path: string): Promise<string | null> {
  const child = spawn('nix-instantiate', ['--parse', path], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const [code] = (await once(child, 'close')) as [number | null];
  return code === 0 ? null : stderr.trim();
}

const repos = existsSync(corpusDir)
  ? readdirSync(corpusDir)
      .filter((d) => statSync(join(corpusDir, d)).isDirectory())
      .sort()
  : [];

test('every corpus repo gets a flake that parses, or the clear unsupported-version error', {
  skip: nixInstantiateMissing() ?? (repos.length === 0 ? `no corpus at ${corpusDir}` : false),
}, async () => {
  assert.equal(repos.length, 46);
  const provider = new NixEnvironmentProvider();
  const out = await mkdtemp(join(tmpdir(), 'nixspace-corpus-flakes-'));
  const outcome: Record<string, string> = {};
  const refused: Record<string, string> = {};
  await Promise.all(
    repos.map(async (repo) => {
      const dir = join(corpusDir, repo);
      const { spec } = await detectDirectory(dir);
      try {
        const plan = await provider.plan(spec, dir);
        assert.ok(plan.flake);
        const file = join(out, `${repo}.nix`);
        await writeFile(file, plan.flake.content);
        const error = await parseNix(file);
        assert.equal(error, null, `${repo}: ${error}`);
        outcome[repo] = plan.flake.generated ? 'generated' : 'own flake';
      } catch (error) {
        if (!(error instanceof UnsupportedVersionError)) throw error;
        const fact = error.facts[0];
        refused[repo] = `${fact?.name} ${fact?.version}`;
        assert.match(error.message, /\(from [^)]+\) cannot be supplied: .+ \(available: .+\)/);
        outcome[repo] = 'unsupported';
      }
    }),
  );
  assert.deepEqual(refused, expectedUnsupported);
  const count = (kind: string) => Object.values(outcome).filter((o) => o === kind).length;
  assert.deepEqual(
    { generated: count('generated'), own: count('own flake'), unsupported: count('unsupported') },
    { generated: 32, own: 5, unsupported: 9 },
  );
});
