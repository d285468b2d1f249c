// What to tell a person about a tool the host environment lacks: why Nix did not supply it and how
// to get it ("Go 1.23 is not on this machine and Nix cannot fetch nixpkgs: install golang-go, or
// let this server reach nixpkgs"). Debian package names, because the server runs on Debian.

import type { ProviderFallback, ReportEntry } from './environment-provider.js';

const displayNames: Record<string, string> = {
  node: 'Node',
  python: 'Python',
  ruby: 'Ruby',
  rust: 'Rust',
  go: 'Go',
  postgres: 'PostgreSQL',
  mysql: 'MySQL',
  mariadb: 'MariaDB',
  redis: 'Redis',
  memcached: 'Memcached',
  bundler: 'Bundler',
};

/** How each tool gets onto a Debian host: a package name, or what to run where Debian has none. */
const installAdvice: Record<string, string> = {
  node: 'install nodejs',
  python: 'install python3',
  ruby: 'install ruby',
  rust: 'install rustc and cargo (or rustup)',
  go: 'install golang-go',
  npm: 'install npm',
  yarn: 'install yarnpkg',
  pnpm: 'run npm install -g pnpm',
  bun: 'install bun (bun.sh)',
  pip: 'install python3-pip',
  poetry: 'install python3-poetry',
  uv: 'run pipx install uv',
  pdm: 'run pipx install pdm',
  hatch: 'run pipx install hatch',
  pipenv: 'install pipenv',
  bundler: 'install ruby-bundler',
  cargo: 'install cargo',
  postgres: 'install postgresql',
  mysql: 'install default-mysql-server',
  mariadb: 'install mariadb-server',
  redis: 'install redis-server',
  valkey: 'install valkey-server',
  memcached: 'install memcached',
};

export function displayName(name: string): string {
  return displayNames[name] ?? name;
}

/** "Nix cannot fetch nixpkgs" and what would let it, by why Nix was not used. */
function nixClause(fallback: ProviderFallback | null): { why: string; instead: string } {
  switch (fallback?.cause) {
    case 'nixpkgs':
      return { why: ' and Nix cannot fetch nixpkgs', instead: ', or let this server reach nixpkgs' };
    case 'nix':
      return { why: ' and Nix cannot build here', instead: ', or install Nix (with flakes) on this server' };
    default:
      return { why: '', instead: ', or run the server with --environment-provider auto to build with Nix' };
  }
}

/**
 * The hint for an entry the host does not satisfy; `registryProblem` when fetching it from the
 * npm registry was tried and failed.
 */
export function missingToolHint(
  entry: Pick<ReportEntry, 'name' | 'wanted' | 'requested' | 'provided' | 'status'>,
  fallback: ProviderFallback | null,
  registryProblem?: string,
): string {
  const asked = entry.requested ?? entry.wanted;
  const tool = `${displayName(entry.name)}${asked ? ` ${asked}` : ''}`;
  const has = entry.status === 'mismatch' && entry.provided ? ` (it has ${entry.provided})` : '';
  const { why, instead } = nixClause(fallback);
  const registry = registryProblem ? `, the npm registry could not supply it (${registryProblem})` : '';
  const advice = installAdvice[entry.name] ?? `install ${entry.name}`;
  return `${tool} is not on this machine${has}${registry}${why}: ${advice}${instead}`;
}
