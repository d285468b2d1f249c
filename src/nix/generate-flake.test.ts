import assert from 'node:assert/strict';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import {
  evalGeneratedShellEnv,
  nixInstantiateMissing,
  parseNixFile,
} from '../../test/support/nix-fixtures.js';
import { type EnvSpec, emptySpec, type Toolchain } from '../detect/env-spec.js';
import { NixSpaceError } from '../errors.js';
import { generateFlake } from './generate-flake.js';
import { nixpkgsPin } from './nixpkgs-pin.js';
import { UnsupportedVersionError } from './unsupported-version-error.js';

const noNix = nixInstantiateMissing();

function spec(parts: Partial<EnvSpec>): EnvSpec {
  return { ...emptySpec(), ...parts };
}

function toolchain(name: Toolchain['name'], version: string, extra: Partial<Toolchain> = {}): Toolchain {
  return { name, version, resolution: 'exact', source: { file: 'pin', line: 1 }, ...extra };
}

async function parses(content: string): Promise<void> {
  if (noNix !== null) return;
  const dir = await mkdtemp(join(tmpdir(), 'nixspace-gen-'));
  await writeFile(join(dir, 'flake.nix'), content);
  assert.equal(parseNixFile(join(dir, 'flake.nix')), null);
}

/** The package expressions of the generated devShell, in order. */
function packagesOf(content: string): string[] {
  const block = /packages = \[\n([\s\S]*?)\n\s*\];/.exec(content)?.[1] ?? '';
  return block.split('\n').map((l) => l.trim());
}

describe('generateFlake', () => {
  it('pins nixpkgs to the one revision and writes a matching lock', async () => {
    const { content, lock } = generateFlake(spec({ toolchains: [toolchain('node', '22')] }));
    assert.match(content, new RegExp(`inputs\\.nixpkgs\\.url = "github:NixOS/nixpkgs/${nixpkgsPin.rev}";`));
    const parsed = JSON.parse(lock) as { nodes: { nixpkgs: { locked: { rev: string; narHash: string } } } };
    assert.equal(parsed.nodes.nixpkgs.locked.rev, nixpkgsPin.rev);
    assert.equal(parsed.nodes.nixpkgs.locked.narHash, nixpkgsPin.narHash);
    assert.match(content, /systems = \[ "x86_64-linux" "aarch64-linux" \];/);
    await parses(content);
  });

  it('gives a Node project its major and its package manager', async () => {
    const { content } = generateFlake(
      spec({
        toolchains: [toolchain('node', '24', { requested: 'v24' })],
        packageManagers: [
          { name: 'pnpm', toolchain: 'node', version: '10.30.3', source: { file: 'package.json' } },
        ],
      }),
    );
    assert.deepEqual(packagesOf(content), ['pkgs.nodejs_24', 'pkgs.pnpm_10']);
    await parses(content);
  });

  it('runs yarn classic on the project Node and picks yarn berry by major', () => {
    const classic = generateFlake(
      spec({
        toolchains: [toolchain('node', '20')],
        packageManagers: [
          { name: 'yarn', toolchain: 'node', variant: 'classic', source: { file: 'yarn.lock' } },
        ],
      }),
    );
    assert.deepEqual(packagesOf(classic.content), [
      'pkgs.nodejs_20',
      '(pkgs.yarn.override { nodejs = pkgs.nodejs_20; })',
    ]);
    const berry = generateFlake(
      spec({
        toolchains: [toolchain('node', '22')],
        packageManagers: [
          {
            name: 'yarn',
            toolchain: 'node',
            variant: 'berry',
            version: '4.11.0',
            source: { file: 'package.json' },
          },
        ],
      }),
    );
    assert.deepEqual(packagesOf(berry.content), ['pkgs.nodejs_22', 'pkgs.yarn-berry_4']);
  });

  it('gives a Python project its interpreter and uv, pip from the same interpreter', async () => {
    const uv = generateFlake(
      spec({
        toolchains: [toolchain('python', '3.12')],
        packageManagers: [{ name: 'uv', toolchain: 'python', source: { file: 'uv.lock' } }],
      }),
    );
    assert.deepEqual(packagesOf(uv.content), ['pkgs.python312', 'pkgs.uv']);
    const pip = generateFlake(
      spec({
        toolchains: [toolchain('python', '3.11')],
        packageManagers: [{ name: 'pip', toolchain: 'python', source: { file: 'requirements.txt' } }],
      }),
    );
    assert.deepEqual(packagesOf(pip.content), ['pkgs.python311', 'pkgs.python311Packages.pip']);
    await parses(pip.content);
  });

  it('gives a Rails app Ruby, bundler on that Ruby, native libraries with pkg-config, and its services', async () => {
    const { content, supplied } = generateFlake(
      spec({
        toolchains: [toolchain('ruby', '3.4.4')],
        packageManagers: [{ name: 'bundler', toolchain: 'ruby', source: { file: 'Gemfile.lock' } }],
        systemPackages: [
          { name: 'libpq', source: { file: 'Gemfile.lock' } },
          { name: 'libvips', source: { file: 'Gemfile.lock' } },
        ],
        services: [
          { name: 'postgres', version: '16', source: { file: 'compose.yml', line: 3 } },
          { name: 'redis', version: null, source: { file: 'compose.yml', line: 9 } },
        ],
      }),
    );
    assert.deepEqual(packagesOf(content), [
      'pkgs.ruby_3_4',
      'pkgs.postgresql_16',
      'pkgs.redis',
      '(pkgs.bundler.override { ruby = pkgs.ruby_3_4; })',
      'pkgs.libpq',
      'pkgs.vips',
      'pkgs.pkg-config',
    ]);
    assert.deepEqual(
      supplied.filter((f) => f.kind === 'service').map((f) => [f.name, f.wanted, f.provided]),
      [
        ['postgres', '16', '16'],
        ['redis', null, null],
      ],
    );
    await parses(content);
  });

  it('gives Go the oldest supplied line at or above the pin, saying so', async () => {
    const { content, notes } = generateFlake(
      spec({
        toolchains: [
          toolchain('go', '1.22.6', { requested: 'go1.22.6', source: { file: 'go.mod', line: 5 } }),
        ],
      }),
    );
    assert.deepEqual(packagesOf(content), ['pkgs.go_1_24']);
    assert.match(notes[0]?.message ?? '', /go 1\.24 builds modules written for go 1\.22 .*go\.mod:5/);
    await parses(content);
  });

  it('gives Rust stable from nixpkgs, and maps an older exact pin to it with a note', () => {
    const stable = generateFlake(
      spec({ toolchains: [toolchain('rust', 'stable', { resolution: 'default' })] }),
    );
    assert.deepEqual(packagesOf(stable.content), ['pkgs.rustc', 'pkgs.cargo', 'pkgs.rustfmt', 'pkgs.clippy']);
    assert.deepEqual(stable.notes, []);
    const pinned = generateFlake(spec({ toolchains: [toolchain('rust', '1.85.0')] }));
    assert.match(pinned.notes[0]?.message ?? '', /Rust 1\.85\.0 is pinned; nixpkgs supplies 1\.91/);
  });

  it('refuses a version nixpkgs cannot supply, naming the toolchain, version, file and what exists', () => {
    assert.throws(
      () =>
        generateFlake(
          spec({
            toolchains: [toolchain('node', '26', { requested: 'v26', source: { file: '.nvmrc', line: 1 } })],
          }),
        ),
      (error: unknown) => {
        assert.ok(error instanceof UnsupportedVersionError);
        assert.ok(error instanceof NixSpaceError);
        assert.equal(error.code, 'UNSUPPORTED_VERSION');
        assert.equal(error.httpStatus, 422);
        assert.equal(
          error.message,
          'node 26 (from .nvmrc:1) cannot be supplied: nixpkgs nixos-25.11 stops at 25 (available: 20, 22, 24, 25)',
        );
        return true;
      },
    );
  });

  it('lists every unsupported fact at once: nightly Rust and an end-of-life PostgreSQL', () => {
    assert.throws(
      () =>
        generateFlake(
          spec({
            toolchains: [
              toolchain('rust', 'nightly-2026-07-19', { source: { file: 'rust-toolchain', line: 2 } }),
            ],
            services: [
              { name: 'postgres', version: '12.5', source: { file: 'docker-compose.yml', line: 4 } },
            ],
          }),
        ),
      (error: unknown) => {
        assert.ok(error instanceof UnsupportedVersionError);
        assert.deepEqual(
          error.facts.map((f) => [f.name, f.version]),
          [
            ['rust', 'nightly-2026-07-19'],
            ['postgres', '12.5'],
          ],
        );
        assert.match(error.message, /rust nightly-2026-07-19 \(from rust-toolchain:2\) .*rust-overlay/);
        assert.match(
          error.message,
          /postgres 12\.5 \(from docker-compose\.yml:4\) .*available: 14, 15, 16, 17, 18/,
        );
        return true;
      },
    );
  });

  it('leaves out services nixpkgs does not build, with a warning instead of failing', () => {
    const { content, notes, supplied } = generateFlake(
      spec({ services: [{ name: 'mongodb', version: '7', source: { file: 'compose.yml' } }] }),
    );
    assert.deepEqual(packagesOf(content).filter(Boolean), []);
    assert.match(
      notes[0]?.message ?? '',
      /mongodb \(from compose\.yml\) is not in the environment: MongoDB is unfree/,
    );
    assert.equal(supplied[0]?.included, false);
  });
});

describe('generateFlake with values from a repository', () => {
  // Nix antiquotations (`${…}`) are the attack under test, so these are plain strings on purpose.
  const hostile = [
    // biome-ignore lint/suspicious/noTemplateCurlyInString: a Nix antiquotation, not a JS template
    '${builtins.abort "injected"}',
    '"; outputs = abort "x"; "',
    // biome-ignore lint/suspicious/noTemplateCurlyInString: a Nix antiquotation, not a JS template
    'back\\slash ${x} $${y} $ {z} end$',
    // biome-ignore lint/suspicious/noTemplateCurlyInString: a Nix antiquotation, not a JS template
    "line1\nline2\ttab\r'' ''${ x }",
  ];

  it('quotes every .env value so it evaluates to itself, never to Nix code', {
    skip: noNix ?? false,
  }, async () => {
    const { content } = generateFlake(
      spec({
        env: hostile.map((value, i) => ({
          name: `V${i}`,
          value,
          secret: false,
          source: { file: '.env.example', line: i + 1 },
        })),
      }),
    );
    await parses(content);
    const evaluated = (await evalGeneratedShellEnv(content)) as {
      env: Record<string, string>;
      shellHook: string;
    };
    assert.deepEqual(evaluated.env, Object.fromEntries(hostile.map((v, i) => [`V${i}`, v])));
    assert.equal(evaluated.shellHook, '');
  });

  it('keeps secrets, invalid names and reserved variables out of the flake', () => {
    const { content, notes } = generateFlake(
      spec({
        env: [
          { name: 'API_KEY', value: null, secret: true, source: { file: '.env.example', line: 1 } },
          { name: 'PATH', value: '/evil', secret: false, source: { file: '.env.example', line: 2 } },
          { name: 'a b" = abort "x', value: '1', secret: false, source: { file: '.env.example', line: 3 } },
          { name: 'PORT', value: '3000', secret: false, source: { file: '.env.example', line: 4 } },
        ],
      }),
    );
    assert.match(content, /env = \{\n\s+PORT = "3000";\n\s+\};/);
    assert.doesNotMatch(content, /API_KEY|\/evil|abort/);
    assert.equal(notes.length, 2);
  });
});
