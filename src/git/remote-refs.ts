// Reads `git ls-remote --symref` output and picks the commit a user's ref names. Pure, so the
// rules (branch before tag before commit id, peeled annotated tags, default branch) are testable
// without a server.

import { NixSpaceError } from '../errors.js';
import type { RepoUrl, ResolvedRef } from './source.js';

export interface RemoteRefs {
  /** Where HEAD points (e.g. "refs/heads/main"), when the server says. */
  headTarget: string | undefined;
  headCommit: string | undefined;
  /** Ref name → object id as advertised (a tag object for annotated tags). */
  refs: Map<string, string>;
  /** Ref name → commit an annotated tag peels to. */
  peeled: Map<string, string>;
}

const objectId = /^(?:[0-9a-f]{40}|[0-9a-f]{64})$/;
const commitLike = /^[0-9a-f]{7,64}$/;

export function parseLsRemote(output: string): RemoteRefs {
  const result: RemoteRefs = {
    headTarget: undefined,
    headCommit: undefined,
    refs: new Map(),
    peeled: new Map(),
  };
  for (const line of output.split('\n')) {
    const tab = line.indexOf('\t');
    if (tab === -1) continue;
    const left = line.slice(0, tab);
    const name = line.slice(tab + 1).trim();
    if (left.startsWith('ref: ')) {
      if (name === 'HEAD') result.headTarget = left.slice(5).trim();
      continue;
    }
    if (!objectId.test(left) || !isSafeRefName(name)) continue;
    if (name === 'HEAD') result.headCommit = left;
    else if (name.endsWith('^{}')) result.peeled.set(name.slice(0, -3), left);
    else result.refs.set(name, left);
  }
  return result;
}

/** Picks what `ref` names; `undefined`, '' and 'HEAD' mean the default branch. */
export function pickRef(remote: RemoteRefs, ref: string | undefined, repo: RepoUrl): ResolvedRef {
  if (remote.refs.size === 0 && remote.headCommit === undefined) {
    throw new NixSpaceError(
      'EMPTY_REPOSITORY',
      `Repository ${repo.displayName} (${repo.safeUrl}) is empty: it has no commits yet`,
    );
  }
  const wanted = ref?.trim() ?? '';
  if (wanted === '' || wanted === 'HEAD') return defaultBranch(remote, repo);

  const candidates = wanted.startsWith('refs/') ? [wanted] : [`refs/heads/${wanted}`, `refs/tags/${wanted}`];
  for (const name of candidates) {
    const id = remote.peeled.get(name) ?? remote.refs.get(name);
    if (id === undefined) continue;
    const branch = name.startsWith('refs/heads/') ? name.slice('refs/heads/'.length) : undefined;
    return { commit: id, refName: name, branch };
  }

  const hex = wanted.toLowerCase();
  if (commitLike.test(hex)) {
    // ls-remote only lists ref tips; any other commit can only be confirmed after fetching.
    const advertised = objectId.test(hex) && isAdvertisedCommit(remote, hex);
    return advertised
      ? { commit: hex, refName: undefined, branch: undefined }
      : { commit: hex, refName: undefined, branch: undefined, provisional: true };
  }
  throw refNotFound(wanted, repo);
}

export function refNotFound(ref: string, repo: RepoUrl): NixSpaceError {
  return new NixSpaceError(
    'REF_NOT_FOUND',
    `Ref '${ref}' was not found in ${repo.displayName}: no branch, tag or commit by that name`,
  );
}

export function isCommitLike(ref: string): boolean {
  return commitLike.test(ref.toLowerCase());
}

function defaultBranch(remote: RemoteRefs, repo: RepoUrl): ResolvedRef {
  const target = remote.headTarget;
  if (target?.startsWith('refs/heads/')) {
    const commit = remote.refs.get(target);
    if (commit !== undefined) return { commit, refName: target, branch: target.slice('refs/heads/'.length) };
  }
  if (remote.headCommit !== undefined) {
    // HEAD without a symref: a detached HEAD on the server, or a server too old to say.
    const branchAtHead = [...remote.refs].find(
      ([name, id]) => name.startsWith('refs/heads/') && id === remote.headCommit,
    )?.[0];
    return branchAtHead === undefined
      ? { commit: remote.headCommit, refName: undefined, branch: undefined }
      : {
          commit: remote.headCommit,
          refName: branchAtHead,
          branch: branchAtHead.slice('refs/heads/'.length),
        };
  }
  // HEAD points at a branch that does not exist (unborn): fall back to a conventional name.
  const branches = [...remote.refs.keys()].filter((name) => name.startsWith('refs/heads/')).sort();
  const fallback =
    branches.find((name) => name === 'refs/heads/main') ??
    branches.find((name) => name === 'refs/heads/master') ??
    branches[0];
  const commit = fallback === undefined ? undefined : remote.refs.get(fallback);
  if (fallback === undefined || commit === undefined) {
    throw new NixSpaceError(
      'REF_NOT_FOUND',
      `Repository ${repo.displayName} has no default branch: name a branch, tag or commit to open`,
    );
  }
  return { commit, refName: fallback, branch: fallback.slice('refs/heads/'.length) };
}

function isAdvertisedCommit(remote: RemoteRefs, id: string): boolean {
  if (remote.headCommit === id) return true;
  for (const [name, value] of remote.refs) if (value === id && !remote.peeled.has(name)) return true;
  for (const value of remote.peeled.values()) if (value === id) return true;
  return false;
}

/**
 * Ref names come from the server; refuse ones that could be read as an option or escape a path
 * when later passed to git (`git checkout -B <name>`). git itself never creates these.
 */
function isSafeRefName(name: string): boolean {
  return (
    name !== '' &&
    !/[\p{Cc}\s~^:?*[\\]/u.test(name.replace(/\^\{\}$/, '')) &&
    !name.split('/').some((part) => part === '' || part.startsWith('-') || part.startsWith('.'))
  );
}
