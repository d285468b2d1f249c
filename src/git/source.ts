// Types shared by the git layer: a parsed repository URL and a resolved source.

export type RepoScheme = 'https' | 'http' | 'file';

export interface RepoUrl {
  /** What git is given: a normalised URL, or an absolute path for local repositories. */
  url: string;
  /** `url` without any user:password, for messages, logs and git config written to disk. */
  safeUrl: string;
  scheme: RepoScheme;
  /** Stable key naming the bare mirror of this repository under the data dir. */
  mirrorKey: string;
  /** Short human name, e.g. "owner/repo". */
  displayName: string;
}

export interface ResolvedRef {
  /** Full commit id (may be abbreviated while `provisional`). */
  commit: string;
  /** The branch or tag the ref named (e.g. "refs/heads/main"), or undefined for a bare commit id. */
  refName: string | undefined;
  /** The branch to check out (short name) when the ref is a branch or the default branch. */
  branch: string | undefined;
  /**
   * True when `commit` is an id the user typed (possibly abbreviated) that ls-remote could not
   * confirm; `GitMirrors.fetch({ commit })` verifies it and returns the full id.
   */
  provisional?: boolean;
}
