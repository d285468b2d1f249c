// What this server fetches repositories from. A repository URL is typed by whoever creates a
// workspace, so it is checked before anything is stored and again right before git contacts it:
// no credentials in URLs (they would be stored and shown to share-link holders), local paths
// only where the server allows them and never inside its own data directory, and no host that
// is or resolves to a link-local, metadata or unspecified address. git is then pinned to the
// addresses checked here, so a DNS answer that changes in between cannot send it elsewhere.

import { realpath } from 'node:fs/promises';
import { sep } from 'node:path';
import { NixSpaceError } from '../errors.js';
import {
  bareHost,
  describeRefusedKind,
  isAddressLiteral,
  type ResolveHost,
  refusedAddress,
  systemResolve,
} from './host-addresses.js';
import type { RepoUrl } from './source.js';

export interface SourcePolicyOptions {
  /** Accept local paths and file:// URLs (`--allow-local-sources`). */
  allowLocal: boolean;
  /** Directories no local source may be inside, symlinks resolved (the data directory). */
  forbiddenDirs: readonly string[];
  resolve?: ResolveHost;
  /** How long a host name lookup may take. */
  lookupTimeoutMs?: number;
}

/** How git must reach a source that passed the checks. */
export interface SourceAccess {
  /** What git is given: the URL, or the real path of a local repository. */
  url: string;
  /** `-c` options that come before git's subcommand (the pinned addresses). */
  gitConfig: string[];
}

export class SourcePolicy {
  readonly #options: SourcePolicyOptions;

  constructor(options: SourcePolicyOptions) {
    this.#options = options;
  }

  /**
   * Refuses a source this server never fetches from, before a workspace is made of it. A host
   * name that does not resolve (yet) passes here: fetching it fails later with that reason.
   */
  async admit(repo: RepoUrl): Promise<void> {
    await this.#check(repo, false);
  }

  /** Checks the source again right before git contacts it, and says how git must reach it. */
  access(repo: RepoUrl): Promise<SourceAccess> {
    return this.#check(repo, true);
  }

  async #check(repo: RepoUrl, strict: boolean): Promise<SourceAccess> {
    if (repo.scheme === 'file') return { url: await this.#localPath(repo, strict), gitConfig: [] };
    const url = new URL(repo.url);
    if (url.username !== '' || url.password !== '') {
      throw new NixSpaceError(
        'BAD_REQUEST',
        `Repository URLs with credentials are not accepted (${repo.safeUrl} was given with a user name or token): NixSpace would have to store the secret and show it to everyone the workspace is shared with. Use the repository's URL without them (${repo.safeUrl}); private repositories need a credential setup (an SSH key or a token kept by the server), which this server does not have yet`,
      );
    }
    const host = bareHost(url.hostname);
    const literal = isAddressLiteral(url.hostname);
    const addresses = literal ? [host] : await this.#lookup(repo, host, strict);
    for (const address of addresses) {
      const kind = refusedAddress(address);
      if (kind === undefined) continue;
      const via = literal ? '' : ` (${host} resolves to ${address})`;
      throw new NixSpaceError(
        'BAD_REQUEST',
        `Repository ${repo.safeUrl} is at ${describeRefusedKind[kind]}${via}: NixSpace does not fetch from such addresses, so that a workspace cannot reach the machine's cloud credentials. Use a repository on a public or private network address`,
      );
    }
    if (literal || addresses.length === 0) return { url: repo.url, gitConfig: [] };
    const port = url.port || (url.protocol === 'https:' ? '443' : '80');
    const pinned = addresses.map((address) => (address.includes(':') ? `[${address}]` : address));
    return {
      url: repo.url,
      gitConfig: ['-c', `http.curloptResolve=${host}:${port}:${pinned.join(',')}`],
    };
  }

  async #lookup(repo: RepoUrl, host: string, strict: boolean): Promise<string[]> {
    const resolve = this.#options.resolve ?? systemResolve;
    const limit = this.#options.lookupTimeoutMs ?? 10_000;
    let timer: NodeJS.Timeout | undefined;
    try {
      return await Promise.race([
        resolve(host),
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new Error(`no answer within ${limit} ms`)), limit);
        }),
      ]);
    } catch (error) {
      if (!strict) return [];
      throw new NixSpaceError(
        'HOST_UNREACHABLE',
        `Could not reach ${host}: the host name does not resolve (Repository ${repo.safeUrl})`,
        { cause: error },
      );
    } finally {
      clearTimeout(timer);
    }
  }

  async #localPath(repo: RepoUrl, strict: boolean): Promise<string> {
    if (!this.#options.allowLocal) {
      throw new NixSpaceError(
        'BAD_REQUEST',
        `${repo.url} is a local path: this server does not accept local repositories (its administrator can allow them by starting it with --allow-local-sources). Use an https:// URL of the repository`,
      );
    }
    let real: string;
    try {
      real = await realpath(repo.url);
    } catch (error) {
      if (!strict) return repo.url;
      throw new NixSpaceError(
        'REPO_NOT_FOUND',
        `Repository ${repo.url} was not found: there is no git repository at that path`,
        { cause: error },
      );
    }
    for (const dir of this.#options.forbiddenDirs) {
      const forbidden = await realpath(dir).catch(() => dir);
      if (real === forbidden || real.startsWith(`${forbidden}${sep}`)) {
        throw new NixSpaceError(
          'BAD_REQUEST',
          `${repo.url} is inside this server's data directory${real === repo.url ? '' : ' (through a symbolic link)'}, which holds other workspaces, keys and the database: it cannot be a repository source`,
        );
      }
    }
    return real;
  }
}
