// The auto provider against the real Nix of this machine: a repo's own flake builds with Nix, a
// generated environment follows whether the pinned nixpkgs can be obtained. Whether it can is
// injected where the test needs one answer or the other (this machine has no route to GitHub, so
// "obtainable" cannot happen here for real); the real probe is run against an empty store, where
// the answer is no on every machine.

import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { ownFlakeSpec, writeHelloFlake } from '../../test/support/nix-fixtures.js';
import { type EnvSpec, emptySpec } from '../detect/env-spec.js';
import { AutoEnvironmentProvider, probeNixpkgs } from './auto-provider.js';
import { HostEnvironmentProvider } from './host-provider.js';
import { NixCli } from './nix-cli.js';
import { NixEnvironmentProvider } from './nix-provider.js';
import { nixpkgsPin } from './nixpkgs-pin.js';

const nixOptions = { offline: true } as const;
let nixProblem: string | null = 'not probed yet';
before(async () => {
  nixProblem = await new NixCli(nixOptions).probe();
});

const nodeSpec = (): EnvSpec => ({
  ...emptySpec(),
  toolchains: [{ name: 'node', version: '22', resolution: 'exact', source: { file: '.nvmrc', line: 1 } }],
});

function auto(answer: string | null): { provider: AutoEnvironmentProvider; probes: () => number } {
  let probes = 0;
  const provider = new AutoEnvironmentProvider(
    new NixEnvironmentProvider(nixOptions),
    new HostEnvironmentProvider(),
    {
      probeNixpkgs: async () => {
        probes++;
        return answer;
      },
    },
  );
  return { provider, probes: () => probes };
}

describe('AutoEnvironmentProvider', () => {
  it('uses the host toolchains for a generated environment when nixpkgs cannot be obtained, and says why', async () => {
    const { provider, probes } = auto('unable to download github.com');
    const plan = await provider.plan(nodeSpec(), tmpdir());
    assert.equal(plan.provider, 'host');
    assert.equal(plan.flake, null);
    assert.equal(plan.fallback?.cause, 'nixpkgs');
    assert.match(
      plan.fallback?.message ?? '',
      new RegExp(`Nix was not used: nixpkgs ${nixpkgsPin.branch}.*unable to download github\\.com`),
    );
    const workDir = await mkdtemp(join(tmpdir(), 'nixspace-env-'));
    const prepared = await provider.prepare(plan, { workDir });
    assert.equal(prepared.provider, 'host');
    assert.equal(prepared.reproducible, false);
    assert.equal(prepared.report[0]?.name, 'node');
    // The answer is asked for once, not per workspace.
    await provider.plan(nodeSpec(), tmpdir());
    assert.equal(probes(), 1);
    await rm(workDir, { recursive: true, force: true });
  });

  it('plans a generated flake with Nix when nixpkgs can be obtained', async () => {
    const { provider } = auto(null);
    const plan = await provider.plan(nodeSpec(), tmpdir());
    assert.equal(plan.provider, 'nix');
    assert.equal(plan.flake?.generated, true);
    assert.match(plan.flake?.content ?? '', /pkgs\.nodejs_22/);
  });

  it("builds a repository's own flake with Nix without asking about nixpkgs", async (t) => {
    if (nixProblem !== null) return t.skip(`nix cannot build here: ${nixProblem}`);
    const { provider, probes } = auto('unreachable');
    const repo = await mkdtemp(join(tmpdir(), 'nixspace-repo-'));
    const workDir = await mkdtemp(join(tmpdir(), 'nixspace-env-'));
    await writeHelloFlake(repo);
    const plan = await provider.plan(ownFlakeSpec(), repo);
    assert.equal(plan.provider, 'nix');
    const prepared = await provider.prepare(plan, { workDir });
    assert.equal(prepared.reproducible, true);
    assert.equal(prepared.env.GREETING, 'hello-from-nix');
    assert.equal(probes(), 0);
    await rm(repo, { recursive: true, force: true });
    await rm(workDir, { recursive: true, force: true });
  });

  it('probes the real nixpkgs pin and names why an empty offline store cannot supply it', async (t) => {
    if (nixProblem !== null) return t.skip(`nix cannot build here: ${nixProblem}`);
    const store = await mkdtemp(join(tmpdir(), 'nixspace-empty-store-'));
    try {
      const problem = await probeNixpkgs(new NixCli({ offline: true, store }));
      assert.ok(problem !== null, 'an empty store without network cannot have nixpkgs');
      assert.match(problem, /nixpkgs|github|download|offline/i);
    } finally {
      await rm(store, { recursive: true, force: true });
    }
  });
});
