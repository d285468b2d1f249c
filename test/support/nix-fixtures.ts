// Nix helpers for the src/nix tests: a self-contained flake that really builds offline (no
// nixpkgs: this machine cannot fetch it), and wrappers around nix-instantiate for parsing and
// evaluating generated code.

import { spawnSync } from 'node:child_process';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { EnvSpec } from '../../src/detect/env-spec.js';
import { emptySpec } from '../../src/detect/env-spec.js';

/** Null when nix-instantiate runs here, else why not (the reason a skipped test gives). */
export function nixInstantiateMissing(): string | null {
  const r = spawnSync('nix-instantiate', ['--version'], { encoding: 'utf8' });
  return r.status === 0 ? null : 'nix-instantiate is not installed (Debian: apt-get install nix-bin)';
}

/** `nix-instantiate --parse` of a file: null when it parses, else Nix's error. */
export function parseNixFile(path: string): string | null {
  const r = spawnSync('nix-instantiate', ['--parse', path], { encoding: 'utf8' });
  return r.status === 0 ? null : r.stderr.trim();
}

/** Evaluates a Nix expression strictly and returns its value as JSON. */
export function evalNixJson(expression: string): unknown {
  const r = spawnSync('nix-instantiate', ['--eval', '--strict', '--json', '--expr', expression], {
    encoding: 'utf8',
  });
  if (r.status !== 0) throw new Error(`nix-instantiate --eval failed: ${r.stderr.trim()}`);
  return JSON.parse(r.stdout) as unknown;
}

/**
 * The `env` of a generated flake's devShell, evaluated with a stub nixpkgs: `mkShell` returns its
 * argument, and laziness leaves the package list (which names real nixpkgs attributes) unevaluated.
 */
export async function evalGeneratedShellEnv(flakeContent: string, system = 'x86_64-linux'): Promise<unknown> {
  const dir = await mkdtemp(join(tmpdir(), 'nixspace-flake-eval-'));
  await writeFile(join(dir, 'flake.nix'), flakeContent);
  const stub = `{
    lib.genAttrs = names: f: builtins.listToAttrs (map (n: { name = n; value = f n; }) names);
    legacyPackages = builtins.listToAttrs (map (s: { name = s; value = { mkShell = a: a; }; }) [ "x86_64-linux" "aarch64-linux" ]);
  }`;
  return evalNixJson(
    `let shell = ((import ${dir}/flake.nix).outputs { self = {}; nixpkgs = ${stub}; }).devShells.${system}.default; in { env = shell.env or {}; shellHook = shell.shellHook; }`,
  );
}

/**
 * A flake with no inputs whose devShell puts a freshly built `hello` on PATH. The devShell is a
 * plain derivation with bash as builder and `outputs` set: what `nix print-dev-env` needs, so the
 * provider's real path (print-dev-env → activation env) runs without nixpkgs' stdenv.
 */
export async function writeHelloFlake(
  dir: string,
  greeting = 'hello-from-nix',
  options: { buildSeconds?: number } = {},
): Promise<void> {
  // A slow build (for abort tests) sleeps before producing its output.
  const sleep = options.buildSeconds === undefined ? '' : `sleep ${options.buildSeconds}; `;
  const flake = `{
  outputs = { self }:
    let
      system = "x86_64-linux";
      hello = derivation {
        name = "nixspace-test-hello";
        inherit system;
        builder = "/bin/sh";
        PATH = "/usr/bin:/bin";
        args = [ "-c" "${sleep}mkdir -p $out/bin; printf '#!/bin/sh\\\\necho ${greeting}\\\\n' > $out/bin/hello; chmod +x $out/bin/hello" ];
      };
    in {
      packages.\${system}.default = hello;
      devShells.\${system}.default = derivation {
        name = "nixspace-test-shell";
        inherit system;
        builder = "/bin/bash";
        outputs = [ "out" ];
        PATH = "\${hello}/bin";
        GREETING = "${greeting}";
        args = [ "-c" "echo > $out" ];
      };
    };
}
`;
  await writeFile(join(dir, 'flake.nix'), flake);
}

/** A spec that says the repo brings its own flake. */
export function ownFlakeSpec(): EnvSpec {
  return { ...emptySpec(), flake: { present: true, file: 'flake.nix' } };
}
