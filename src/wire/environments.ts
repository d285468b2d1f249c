// The environment history contract: what an environment changed against its parent, a workspace's
// versions (`GET /api/workspaces/:id/environments`) and the diff of any two
// (`GET /api/environments/diff`), as the server answers and the UI shows them.

/** One fact an environment changed against another. */
export interface FactChange {
  kind: 'toolchain' | 'package-manager' | 'service' | 'system-package' | 'variable' | 'setup';
  name: string;
  change: 'added' | 'removed' | 'changed';
  /** The version (or value description) before and after; null when there was none. */
  from: string | null;
  to: string | null;
}

export interface SpecDiff {
  changes: FactChange[];
  /** "node 20 → 22, +redis 7" */
  summary: string;
}

/** `GET /api/environments/diff?from=&to=`. */
export interface EnvironmentDiff extends SpecDiff {
  from: { id: string; hash: string };
  to: { id: string; hash: string };
}

/** An environment a workspace ran with, and what it changed against the one before. */
export interface EnvironmentVersion {
  id: string;
  environmentId: string;
  parentEnvironmentId: string | null;
  hash: string;
  provider: string;
  reproducible: boolean;
  commit: string;
  ref: string | null;
  message: string;
  changes: SpecDiff;
  createdAt: string;
}
