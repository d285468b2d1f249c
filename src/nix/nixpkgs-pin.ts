// The one nixpkgs revision every generated flake builds against. Changing it changes every
// generated environment's hash (the lock is part of it), so environments built before a bump
// keep their own builds. When bumping, update the attribute table in nixpkgs-attributes.ts too:
// it describes what this revision contains.

export interface NixpkgsPin {
  /** The release branch the revision was taken from, for messages and the UI. */
  branch: string;
  rev: string;
  /** NAR hash of the source tree: Nix verifies the download against it. */
  narHash: string;
  /** Commit time (Unix seconds); flake.lock records it and Nix checks it. */
  lastModified: number;
}

/**
 * nixos-25.11 as of 2026-05-10 (`github:NixOS/nixpkgs/8fd9daa3…`). Chosen because it is a stable
 * release branch (security backports, no attribute churn) and its rev, narHash and lastModified
 * were recorded together in published flake.lock files, so the lock below is the one Nix writes.
 * nixos-26.05 would add nodejs_26, ruby_4_0 and go_1_26; bump when that revision can be verified.
 */
export const nixpkgsPin: NixpkgsPin = {
  branch: 'nixos-25.11',
  rev: '8fd9daa3db09ced9700431c5b7ad0e8ba199b575',
  narHash: 'sha256-Ti+ZBvW6yrWWAg2szExVTwCd4qOJ3KlVr1tFHfyfi8Q=',
  lastModified: 1778430510,
};

export function nixpkgsFlakeUrl(pin: NixpkgsPin = nixpkgsPin): string {
  return `github:NixOS/nixpkgs/${pin.rev}`;
}

/**
 * The flake.lock for a generated flake. Writing it ourselves means Nix never resolves (or writes)
 * a lock, the lock bytes are fixed by the pin, and they go into the environment hash.
 */
export function nixpkgsFlakeLock(pin: NixpkgsPin = nixpkgsPin): string {
  const github = { owner: 'NixOS', repo: 'nixpkgs', rev: pin.rev, type: 'github' };
  const lock = {
    nodes: {
      nixpkgs: {
        locked: { lastModified: pin.lastModified, narHash: pin.narHash, ...github },
        original: github,
      },
      root: { inputs: { nixpkgs: 'nixpkgs' } },
    },
    root: 'root',
    version: 7,
  };
  return `${JSON.stringify(lock, null, 2)}\n`;
}
