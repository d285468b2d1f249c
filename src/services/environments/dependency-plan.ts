// How each package manager installs into a workspace: the command that runs, the environment it
// and every later shell need, the lockfiles (or without one, the manifests) that key its cache,
// and the directories it fills (restored from the cache when the same one was installed before).

import type { EnvSpec, PackageManagerName, SetupCommand, ToolchainName } from '../../detect/env-spec.js';

export interface InstallPlan {
  /** Shown to the user: what the repository asked for. */
  label: string;
  manager: PackageManagerName | undefined;
  toolchain: ToolchainName;
  /** Shell script run with bash in the repository. */
  script: string;
  /** Lockfiles (repo-relative) whose content keys the cache; without one, the manifests do. */
  lockfiles: string[];
  /**
   * Lockfiles (repo-relative) an install without one writes and the manager's tools do without
   * afterwards: they are moved out of the checkout (into the cache entry), since they are not the
   * repository's. Yarn Berry finds its project by its lockfile and Go builds need go.sum: theirs stay.
   */
  writtenLockfiles: string[];
  /**
   * Manifests and the manager's configuration in the repository (repo-relative): what the install
   * reads besides the lockfile (scripts, hooks, registries). Every byte of them keys the cache.
   */
  manifests: string[];
  /** Directories the install fills, relative to the workspace directory. */
  artifacts: string[];
}

/** Variables every shell, job and install of a workspace gets so installed tools are found. */
export function dependencyEnv(workspaceDir: string): Record<string, string> {
  return {
    BUNDLE_PATH: `${workspaceDir}/repo/vendor/bundle`,
    POETRY_VIRTUALENVS_IN_PROJECT: 'true',
    PIPENV_VENV_IN_PROJECT: '1',
    PDM_VENV_IN_PROJECT: 'true',
    CARGO_HOME: `${workspaceDir}/home/.cargo`,
    GOPATH: `${workspaceDir}/home/go`,
    GOFLAGS: '-modcacherw',
    npm_config_cache: `${workspaceDir}/home/.npm`,
    VIRTUAL_ENV: `${workspaceDir}/repo/.venv`,
  };
}

/** PATH entries (first wins) for tools installed into the workspace. */
export function dependencyPath(workspaceDir: string): string[] {
  return [
    `${workspaceDir}/repo/.venv/bin`,
    `${workspaceDir}/repo/node_modules/.bin`,
    `${workspaceDir}/home/go/bin`,
  ];
}

const pyproject = ['pyproject.toml', 'setup.py', 'setup.cfg'];
const byManager: Record<
  PackageManagerName,
  { lockfiles: string[]; manifests: string[]; artifacts: string[]; keepsWritten?: true }
> = {
  npm: {
    lockfiles: ['package-lock.json', 'npm-shrinkwrap.json'],
    manifests: ['package.json', '.npmrc'],
    artifacts: ['repo/node_modules'],
  },
  pnpm: {
    lockfiles: ['pnpm-lock.yaml'],
    manifests: ['package.json', '.npmrc', 'pnpm-workspace.yaml', '.pnpmfile.cjs'],
    artifacts: ['repo/node_modules'],
  },
  yarn: {
    lockfiles: ['yarn.lock'],
    keepsWritten: true,
    manifests: ['package.json', '.yarnrc.yml', '.yarnrc', '.npmrc'],
    artifacts: ['repo/node_modules', 'repo/.yarn/cache', 'repo/.pnp.cjs', 'repo/.pnp.loader.mjs'],
  },
  bun: {
    lockfiles: ['bun.lock', 'bun.lockb'],
    manifests: ['package.json', 'bunfig.toml', '.npmrc'],
    artifacts: ['repo/node_modules'],
  },
  pip: { lockfiles: [], manifests: pyproject, artifacts: ['repo/.venv'] },
  uv: { lockfiles: ['uv.lock'], manifests: pyproject, artifacts: ['repo/.venv'] },
  poetry: { lockfiles: ['poetry.lock'], manifests: pyproject, artifacts: ['repo/.venv'] },
  pdm: { lockfiles: ['pdm.lock'], manifests: pyproject, artifacts: ['repo/.venv'] },
  hatch: { lockfiles: [], manifests: pyproject, artifacts: [] },
  pipenv: { lockfiles: ['Pipfile.lock'], manifests: ['Pipfile'], artifacts: ['repo/.venv'] },
  bundler: {
    lockfiles: ['Gemfile.lock'],
    manifests: ['Gemfile', '.bundle/config'],
    artifacts: ['repo/vendor/bundle'],
  },
  cargo: {
    lockfiles: ['Cargo.lock'],
    manifests: ['Cargo.toml', '.cargo/config.toml', '.cargo/config'],
    artifacts: ['home/.cargo/registry', 'home/.cargo/git'],
  },
  go: {
    lockfiles: ['go.sum'],
    manifests: ['go.mod', 'go.work'],
    artifacts: ['home/go/pkg/mod'],
    keepsWritten: true,
  },
};

export function installPlans(spec: EnvSpec): InstallPlan[] {
  return spec.setup.map((setup) => planFor(spec, setup));
}

function planFor(spec: EnvSpec, setup: SetupCommand): InstallPlan {
  const manager = managerOf(spec, setup);
  const known = manager ? byManager[manager] : undefined;
  // A subdirectory install (`cd web && npm ci`) keys on that directory's lockfile.
  const subdir = /^cd\s+([\w./-]+)\s+&&/.exec(setup.command)?.[1];
  const prefix = subdir ? `${subdir.replace(/\/$/, '')}/` : '';
  const lockfiles = (known?.lockfiles ?? []).map((file) => `${prefix}${file}`);
  const manifests = (known?.manifests ?? []).map((file) => `${prefix}${file}`);
  const artifacts = (known?.artifacts ?? []).map((dir) =>
    subdir && dir.startsWith('repo/') ? `repo/${prefix}${dir.slice('repo/'.length)}` : dir,
  );
  // pip installs into the workspace's own virtualenv, never into the host's Python.
  const script =
    manager === 'pip'
      ? `test -d .venv || python3 -m venv .venv\n. .venv/bin/activate\n${setup.command}`
      : setup.command;
  return {
    label: setup.command,
    manager,
    toolchain: setup.toolchain,
    script,
    // pip has no lockfile of its own: requirements files pinned by the repo stand in for one.
    lockfiles: manager === 'pip' ? requirementFiles(setup.command) : lockfiles,
    writtenLockfiles: manager === 'pip' || known?.keepsWritten ? [] : lockfiles,
    manifests,
    artifacts,
  };
}

function managerOf(spec: EnvSpec, setup: SetupCommand): PackageManagerName | undefined {
  const first = setup.command.replace(/^cd\s+\S+\s+&&\s+/, '').split(/\s+/)[0];
  const named = spec.packageManagers.find(
    (pm) => pm.name === first || (first === 'bundle' && pm.name === 'bundler'),
  );
  return named?.name ?? spec.packageManagers.find((pm) => pm.toolchain === setup.toolchain)?.name;
}

function requirementFiles(command: string): string[] {
  return [...command.matchAll(/-r\s+(\S+)/g)].map((m) => m[1]!);
}
