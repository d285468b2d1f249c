// One bare mirror per repository under the data dir, and the operations on it: resolve a ref
// (one ls-remote round trip), fetch (clone the first time, then incremental), and a cheap
// working checkout per workspace that borrows the mirror's objects.
//
// Mirrors are full, not `--filter=blob:none` as DESIGN.md first sketched: a workspace reads
// objects from the mirror through alternates inside a sandbox that has no network, so a partial
// mirror would leave `git log -p`, `git blame` or a checkout of another commit asking a promisor
// remote for blobs it cannot reach. Full mirrors keep every workspace self-sufficient offline.

import { randomBytes } from 'node:crypto';
import { mkdir, readdir, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { NixSpaceError } from '../errors.js';
import type { RefListing } from '../wire/switching.js';
import { checkoutFromMirror } from './checkout.js';
import { dirSize } from './dir-size.js';
import { failedGit, formatBytes, interruptedGit, redactText } from './git-errors.js';
import { KeyMutex } from './key-mutex.js';
import { isCommitLike, parseLsRemote, pickRef, refNotFound } from './remote-refs.js';
import { runGit } from './run-git.js';
import type { RepoUrl, ResolvedRef } from './source.js';
import type { SourceAccess, SourcePolicy } from './source-policy.js';

export interface GitMirrorsOptions {
  /** Directory holding `<mirrorKey>.git` bare mirrors. */
  mirrorsDir: string;
  /**
   * Network patience: ls-remote must finish within this; a fetch is killed once git shows no
   * progress (no output, no bytes arriving) for this long.
   */
  timeoutMs: number;
  /** A mirror may not grow past this many bytes on disk. */
  maxRepoBytes: number;
  /** Limit for local work (cloning from the mirror, writing files); default 5 minutes. */
  localTimeoutMs?: number;
  /**
   * Checked right before every operation that contacts a repository, which git then reaches
   * only as it allows; without one, git fetches from wherever a URL points.
   */
  sources?: SourcePolicy;
}

export interface GitOperationOptions {
  signal?: AbortSignal;
  /** Overrides the instance's timeoutMs (or localTimeoutMs for checkout) for this call. */
  timeoutMs?: number;
}

export interface FetchOptions extends GitOperationOptions {
  /** A commit id (full or abbreviated) that must be present afterwards; verified and expanded. */
  commit?: string;
  /**
   * The server advertised `commit` as a ref's tip just now (ls-remote): when the mirror already
   * has it, nothing needs fetching.
   */
  advertised?: boolean;
  /** Each progress line git prints ("Receiving objects:  45% ..."). */
  onProgress?(line: string): void;
}

export interface FetchResult {
  mirrorDir: string;
  /** The full id of `options.commit`, once verified to be a commit in the mirror. */
  commit?: string;
  sizeBytes: number;
}

const sizePollMs = 100;
/** Branches and tags only: GitHub-style refs/pull/* would multiply a mirror's size and refs. */
const refspecs = ['+refs/heads/*:refs/heads/*', '+refs/tags/*:refs/tags/*'];
/**
 * Written into every mirror before the first object arrives. Workspaces borrow objects through
 * alternates, which the mirror cannot see, so it must never gc or prune anything away.
 */
const mirrorConfig = {
  'gc.auto': '0',
  'gc.pruneExpire': 'never',
  'gc.reflogExpire': 'never',
  'maintenance.auto': 'false',
  'core.logAllRefUpdates': 'false',
};

export class GitMirrors {
  readonly #options: GitMirrorsOptions;
  readonly #locks = new KeyMutex();

  constructor(options: GitMirrorsOptions) {
    this.#options = options;
  }

  /** The bound on one git operation, for callers that run git on a checkout themselves. */
  get timeoutMs(): number {
    return this.#options.timeoutMs;
  }

  mirrorDir(repo: RepoUrl): string {
    return join(this.#options.mirrorsDir, `${repo.mirrorKey}.git`);
  }

  async resolveRef(
    repo: RepoUrl,
    ref: string | undefined,
    opts: GitOperationOptions = {},
  ): Promise<ResolvedRef> {
    const context = { repo, action: 'listing refs of' };
    const source = await this.#access(repo);
    // One round trip lists HEAD's symref, branches and tags together. git 2.39 sends no
    // ref-prefix for ls-remote patterns and --heads/--tags would drop HEAD, so v2's filtering
    // buys nothing here, while v2 over HTTP costs two requests: v0's single advertisement wins.
    const args = [...source.gitConfig, '-c', 'protocol.version=0', 'ls-remote', '--symref', '--', source.url];
    const result = await runGit(args, {
      ...withSignal(opts.signal),
      timeoutMs: opts.timeoutMs ?? this.#options.timeoutMs,
    }).catch((error: unknown) => {
      throw interruptedGit(context, error);
    });
    if (result.code !== 0) throw failedGit(context, result);
    return pickRef(parseLsRemote(result.stdout), ref, repo);
  }

  fetch(repo: RepoUrl, opts: FetchOptions = {}): Promise<FetchResult> {
    if (opts.commit !== undefined && !isCommitLike(opts.commit)) {
      return Promise.reject(refNotFound(opts.commit, repo));
    }
    return this.#locks.run(repo.mirrorKey, () => this.#fetchLocked(repo, opts));
  }

  async checkout(
    repo: RepoUrl,
    resolved: ResolvedRef,
    targetDir: string,
    opts: GitOperationOptions = {},
  ): Promise<void> {
    const mirrorDir = this.mirrorDir(repo);
    if (!(await isDir(mirrorDir))) {
      throw new NixSpaceError(
        'GIT_FAILED',
        `${repo.displayName} has not been fetched yet; fetch it before checking out`,
      );
    }
    await checkoutFromMirror({
      repo,
      resolved,
      mirrorDir,
      targetDir,
      timeoutMs: opts.timeoutMs ?? this.#options.localTimeoutMs ?? 5 * 60_000,
      ...withSignal(opts.signal),
    });
  }

  /**
   * What a workspace can switch to, as the mirror knows it (as of its last fetch): branches and
   * tags, most recently committed first, and the default branch's recent commits.
   */
  async listRefs(repo: RepoUrl, opts: { commits?: number } = {}): Promise<RefListing> {
    const gitDir = this.mirrorDir(repo);
    if (!(await isDir(gitDir))) return { branches: [], tags: [], commits: [] };
    const timeoutMs = this.#options.localTimeoutMs ?? 60_000;
    const refs = await runGit(
      [
        '--git-dir',
        gitDir,
        'for-each-ref',
        '--sort=-creatordate',
        '--format=%(refname)%00%(objectname)%00%(*objectname)%00%(creatordate:iso-strict)%00%(contents:subject)',
        'refs/heads',
        'refs/tags',
      ],
      { timeoutMs },
    );
    const branches: RefListing['branches'] = [];
    const tags: RefListing['tags'] = [];
    for (const line of refs.stdout.split('\n')) {
      const [name = '', object = '', peeled = '', date = '', subject = ''] = line.split('\0');
      if (name.startsWith('refs/heads/')) {
        branches.push({ name: name.slice('refs/heads/'.length), commit: object, date, subject });
      } else if (name.startsWith('refs/tags/')) {
        tags.push({ name: name.slice('refs/tags/'.length), commit: peeled || object, date, subject });
      }
    }
    const log = await runGit(
      ['--git-dir', gitDir, 'log', `-n${opts.commits ?? 20}`, '--format=%H%x00%cI%x00%s', 'HEAD', '--'],
      { timeoutMs },
    );
    const commits = log.stdout
      .split('\n')
      .filter((line) => line.includes('\0'))
      .map((line) => {
        const [commit = '', date = '', subject = ''] = line.split('\0');
        return { commit, date, subject };
      });
    return { branches, tags, commits };
  }

  /** Deletes a workspace checkout; the mirror it borrowed from is untouched. */
  async removeCheckout(targetDir: string): Promise<void> {
    if (targetDir === '' || targetDir === '/' || !targetDir.startsWith('/')) {
      throw new NixSpaceError(
        'INTERNAL',
        `Refusing to remove '${targetDir}': not an absolute workspace path`,
      );
    }
    await rm(targetDir, { recursive: true, force: true, maxRetries: 3 });
  }

  /** How git may reach the repository now (the policy looks again at every operation). */
  #access(repo: RepoUrl): Promise<SourceAccess> {
    return this.#options.sources?.access(repo) ?? Promise.resolve({ url: repo.url, gitConfig: [] });
  }

  async #fetchLocked(repo: RepoUrl, opts: FetchOptions): Promise<FetchResult> {
    const mirrorDir = this.mirrorDir(repo);
    const source = await this.#access(repo);
    await mkdir(this.#options.mirrorsDir, { recursive: true });
    const present = await isDir(mirrorDir);
    if (present && opts.advertised && opts.commit !== undefined && /^[0-9a-f]{40}$/i.test(opts.commit)) {
      // The commit a ref resolved to is already here: a network fetch would bring nothing needed.
      const known = await revParseCommit(mirrorDir, opts.commit.toLowerCase());
      if (known !== undefined) return { mirrorDir, commit: known, sizeBytes: await dirSize(mirrorDir) };
    }
    if (present) await this.#update(repo, source, mirrorDir, opts);
    else await this.#clone(repo, source, mirrorDir, opts);

    let commit: string | undefined;
    if (opts.commit !== undefined)
      commit = await this.#ensureCommit(repo, source, mirrorDir, opts.commit.toLowerCase(), opts);
    const sizeBytes = await dirSize(mirrorDir);
    return commit === undefined ? { mirrorDir, sizeBytes } : { mirrorDir, commit, sizeBytes };
  }

  async #clone(repo: RepoUrl, source: SourceAccess, mirrorDir: string, opts: FetchOptions): Promise<void> {
    // Cloned aside and renamed into place, so a failed or killed clone never leaves a half mirror.
    const tmp = join(this.#options.mirrorsDir, `.tmp-${repo.mirrorKey}-${randomBytes(4).toString('hex')}`);
    const config = Object.entries(mirrorConfig).flatMap(([key, value]) => ['--config', `${key}=${value}`]);
    try {
      // --no-local: a local source is copied through upload-pack like any remote, not hardlinked
      // into, so a mirror never shares inodes with someone else's repository.
      await this.#transfer(
        repo,
        tmp,
        [
          ...source.gitConfig,
          'clone',
          '--bare',
          '--progress',
          '--no-local',
          ...config,
          '--',
          source.url,
          tmp,
        ],
        'cloning',
        0,
        opts,
      );
      // Keep credentials out of the config on disk; fetches pass the URL explicitly.
      await runGit(['--git-dir', tmp, 'config', 'remote.origin.url', repo.safeUrl]);
      await rename(tmp, mirrorDir);
    } catch (error) {
      await rm(tmp, { recursive: true, force: true, maxRetries: 3 });
      throw error;
    }
  }

  async #update(repo: RepoUrl, source: SourceAccess, mirrorDir: string, opts: FetchOptions): Promise<void> {
    // Mirrors made by an older NixSpace may lack these; they must hold before objects arrive.
    const configured = await runGit(['--git-dir', mirrorDir, 'config', '--get', 'gc.pruneExpire']);
    if (configured.stdout.trim() !== mirrorConfig['gc.pruneExpire']) {
      for (const [key, value] of Object.entries(mirrorConfig)) {
        await runGit(['--git-dir', mirrorDir, 'config', key, value]);
      }
    }
    const before = await dirSize(mirrorDir);
    await this.#transfer(
      repo,
      mirrorDir,
      [
        ...source.gitConfig,
        '--git-dir',
        mirrorDir,
        'fetch',
        '--progress',
        '--no-prune',
        '--no-auto-gc',
        '--',
        source.url,
        ...refspecs,
      ],
      'fetching',
      before,
      opts,
    ).catch(async (error: unknown) => {
      await removeTempPacks(mirrorDir);
      throw error;
    });
  }

  /** Runs a clone or fetch into `dir`, watching its size and liveness. */
  async #transfer(
    repo: RepoUrl,
    dir: string,
    args: string[],
    action: string,
    startBytes: number,
    opts: FetchOptions,
  ): Promise<void> {
    const context = { repo, action };
    const limit = this.#options.maxRepoBytes;
    let lastSize = startBytes;
    const tooLarge = (size: number): NixSpaceError =>
      new NixSpaceError(
        'REPO_TOO_LARGE',
        `Repository ${repo.displayName} is larger than the ${formatBytes(limit)} limit (reached ${formatBytes(size)} on disk while ${action} it)`,
      );
    const result = await runGit(args, {
      ...withSignal(opts.signal),
      stallTimeoutMs: opts.timeoutMs ?? this.#options.timeoutMs,
      onStderrLine: (line) => opts.onProgress?.(redactText(line)),
      watch: {
        intervalMs: sizePollMs,
        check: async (markAlive) => {
          const size = await dirSize(dir);
          if (size !== lastSize) markAlive();
          lastSize = size;
          return size > limit ? tooLarge(size) : undefined;
        },
      },
    }).catch((error: unknown) => {
      throw interruptedGit(context, error);
    });
    if (result.code !== 0) throw failedGit(context, result);
    // Over loopback or a fast link, git can finish between two polls.
    const size = await dirSize(dir);
    if (size > limit) throw tooLarge(size);
  }

  /** Returns the full id of `commit`, fetching it by id if no branch or tag brought it in. */
  async #ensureCommit(
    repo: RepoUrl,
    source: SourceAccess,
    mirrorDir: string,
    commit: string,
    opts: FetchOptions,
  ): Promise<string> {
    const found = await revParseCommit(mirrorDir, commit);
    if (found !== undefined) return found;
    // Commits off every branch (a pull request head) can still be fetched by full id from
    // servers that allow it; an abbreviated id cannot be asked for.
    if (/^(?:[0-9a-f]{40}|[0-9a-f]{64})$/.test(commit)) {
      try {
        await this.#transfer(
          repo,
          mirrorDir,
          [
            ...source.gitConfig,
            '--git-dir',
            mirrorDir,
            'fetch',
            '--progress',
            '--no-auto-gc',
            '--no-tags',
            '--',
            source.url,
            `${commit}:refs/nixspace/commits/${commit}`,
          ],
          'fetching a commit of',
          await dirSize(mirrorDir),
          opts,
        );
      } catch (error) {
        await removeTempPacks(mirrorDir);
        if (!(error instanceof NixSpaceError) || error.code !== 'GIT_FAILED') throw error;
      }
      const fetched = await revParseCommit(mirrorDir, commit);
      if (fetched !== undefined) return fetched;
    }
    throw new NixSpaceError(
      'REF_NOT_FOUND',
      `Commit ${commit} was not found in ${repo.displayName}: no commit by that id is reachable from its branches or tags`,
    );
  }
}

async function revParseCommit(gitDir: string, commit: string): Promise<string | undefined> {
  const result = await runGit([
    '--git-dir',
    gitDir,
    'rev-parse',
    '--verify',
    '--quiet',
    `${commit}^{commit}`,
  ]);
  const id = result.stdout.trim();
  return result.code === 0 && id !== '' ? id : undefined;
}

/** A killed fetch leaves its incoming pack behind as objects/pack/tmp_pack_*; nothing uses it. */
async function removeTempPacks(gitDir: string): Promise<void> {
  const packDir = join(gitDir, 'objects', 'pack');
  const names = await readdir(packDir).catch(() => [] as string[]);
  await Promise.all(
    names.filter((name) => name.startsWith('tmp_')).map((name) => rm(join(packDir, name), { force: true })),
  );
}

async function isDir(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isDirectory();
  } catch {
    return false;
  }
}

function withSignal(signal: AbortSignal | undefined): { signal?: AbortSignal } {
  return signal === undefined ? {} : { signal };
}
