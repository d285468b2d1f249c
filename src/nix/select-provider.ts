// Picks the environment provider by capability: Nix when a nix with flakes can build here (for
// generated flakes, only once the pinned nixpkgs proves obtainable: AutoEnvironmentProvider), the
// host toolchains otherwise. Forcing `nix` on a server where it cannot work is an error that
// says why, rather than a silent fallback to an unreproducible environment.

import { NixSpaceError } from '../errors.js';
import { AutoEnvironmentProvider } from './auto-provider.js';
import type { EnvironmentProvider } from './environment-provider.js';
import { HostEnvironmentProvider, type HostProviderOptions } from './host-provider.js';
import { NixEnvironmentProvider, type NixProviderOptions } from './nix-provider.js';

export interface SelectProviderOptions {
  force?: 'nix' | 'host';
  nix?: NixProviderOptions;
  host?: HostProviderOptions;
  signal?: AbortSignal;
  /** Why the choice was made, for the server log. */
  onLog?(line: string): void;
}

export async function selectEnvironmentProvider(
  options: SelectProviderOptions = {},
): Promise<EnvironmentProvider> {
  if (options.force === 'host') return new HostEnvironmentProvider(options.host);
  const nix = new NixEnvironmentProvider(options.nix);
  const problem = await nix.cli.probe(options.signal);
  if (problem === null) {
    if (options.force === 'nix') {
      options.onLog?.('environments: nix (flakes), reproducible');
      return nix;
    }
    options.onLog?.('environments: nix (flakes) for what it can obtain, else the host toolchains');
    const auto = new AutoEnvironmentProvider(nix, new HostEnvironmentProvider(options.host), {
      ...(options.onLog ? { onLog: options.onLog } : {}),
    });
    // Start obtaining nixpkgs now, so the first workspace does not wait for its download.
    void auto.nixpkgsProblem();
    return auto;
  }
  if (options.force === 'nix') {
    throw new NixSpaceError('ENVIRONMENT_BUILD_FAILED', 'nix was required but cannot build here', {
      detail: problem,
    });
  }
  options.onLog?.(`environments: host toolchains, not reproducible (${problem})`);
  return new HostEnvironmentProvider({
    ...options.host,
    fallback: {
      cause: 'nix',
      detail: problem,
      message: `Nix was not used: it cannot build here (${problem})`,
    },
  });
}
