// `nix print-dev-env --json` → the variables every process of the workspace gets. Mirrors what
// `nix develop` keeps: exported string variables, minus those that describe the build sandbox the
// dump was taken in (HOME=/homeless-shelter, TMPDIR=/tmp/nix-build-…) or the derivation itself.

const ignored = new Set([
  'BASHOPTS',
  'HOME',
  'NIX_BUILD_TOP',
  'NIX_BUILD_CORES',
  'NIX_ENFORCE_PURITY',
  'NIX_LOG_FD',
  'NIX_REMOTE',
  'NIX_STORE',
  'PPID',
  'SHELL',
  'SHELLOPTS',
  'SSL_CERT_FILE',
  'TEMP',
  'TEMPDIR',
  'TERM',
  'TMP',
  'TMPDIR',
  'TZ',
  'UID',
  'builder',
  'out',
  'outputs',
  'system',
  'dontAddDisableDepTrack',
  'shellHook',
]);

interface DevEnvJson {
  variables?: Record<string, { type?: string; value?: unknown }>;
}

export interface ActivationEnv {
  env: Record<string, string>;
  shellHook: string | null;
}

/**
 * `basePath` follows the environment's PATH so that host basics (/usr/bin/env, sh) still resolve;
 * the environment's own entries win because they come first.
 */
export function activationFromDevEnv(json: string, basePath: string): ActivationEnv {
  const parsed = JSON.parse(json) as DevEnvJson;
  const env: Record<string, string> = {};
  let shellHook: string | null = null;
  for (const [name, variable] of Object.entries(parsed.variables ?? {})) {
    if (typeof variable.value !== 'string') continue;
    if (name === 'shellHook') {
      shellHook = variable.value === '' ? null : variable.value;
      continue;
    }
    if (variable.type !== 'exported' || ignored.has(name)) continue;
    env[name] = variable.value;
  }
  // stdenv leaves this placeholder when a derivation has no PATH of its own.
  const own = (env.PATH ?? '').split(':').filter((p) => p !== '' && p !== '/path-not-set');
  return { env: withPathFirst({ ...env, PATH: joinPath(own, basePath) }), shellHook };
}

export function joinPath(first: string[], basePath: string): string {
  const seen = new Set<string>();
  const out: string[] = [];
  for (const p of [...first, ...basePath.split(':')]) {
    if (p === '' || seen.has(p)) continue;
    seen.add(p);
    out.push(p);
  }
  return out.join(':');
}

/** PATH first: the order processes see, and the order the UI shows. */
export function withPathFirst(env: Record<string, string>): Record<string, string> {
  const { PATH, ...rest } = env;
  const sorted = Object.fromEntries(Object.entries(rest).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  return PATH === undefined ? sorted : { PATH, ...sorted };
}
