// The only way detection touches a repository: list the root, read a file, ask whether a path
// exists. A real checkout answers from its directory; a corpus snapshot also answers from its
// ROOT_LISTING.txt, which names root entries (Makefile, flake.nix, src-ui/) that were not copied.

import { kindBelow, listBelow, type Refusal, readBelow } from '../runtime/host/workspace-file.js';

export interface RootEntry {
  name: string;
  kind: 'file' | 'dir' | 'link';
}

/** A file that is there but was not read, and why, in words for the user. */
export interface Unread {
  unread: string;
}

export interface RepoFiles {
  /** Root entries, whether or not their content can be read. */
  listRoot(): Promise<RootEntry[]>;
  /**
   * A repo-relative file as UTF-8, at most `maxBytes`; null when absent, `Unread` when it is there
   * but is not read (a symlink, a FIFO).
   */
  readText(path: string, options?: { maxBytes?: number }): Promise<string | Unread | null>;
  exists(path: string): Promise<boolean>;
}

/** Manifests are small; anything bigger is a lock file, whose head is all detection needs. */
export const defaultMaxBytes = 1024 * 1024;

const unreadBecause: Partial<Record<Refusal, string>> = {
  symlink: 'is a symlink',
  'not-a-file': 'is not a regular file',
};

/**
 * A checkout on disk, which the workspace can write: every read opens its path below `dir`
 * without following a symlink on the way or at the end, and a symlink is listed as a link.
 */
export function directoryRepoFiles(dir: string): RepoFiles {
  return {
    async listRoot() {
      const entries = (await listBelow(dir, '')) ?? [];
      return entries
        .filter((e) => e.name !== '.git')
        .map((e) => ({ name: e.name, kind: e.kind === 'dir' ? 'dir' : e.kind === 'link' ? 'link' : 'file' }));
    },
    async readText(path, options) {
      const outcome = await readBelow(dir, path, {
        maxBytes: options?.maxBytes ?? defaultMaxBytes,
        truncate: true,
      });
      if (outcome.ok) return outcome.content.toString('utf8');
      const why = unreadBecause[outcome.why];
      return why === undefined ? null : { unread: `\`${path}\` ${why}: ignored` };
    },
    async exists(path) {
      // A symlink is there (and is named when read), but what it points at is not looked at.
      return (await kindBelow(dir, path)) !== undefined;
    },
  };
}

export const rootListingFile = 'ROOT_LISTING.txt';
/** Corpus bookkeeping that is not part of the repository it describes. */
const corpusMetaFiles = new Set([rootListingFile, 'expected.json']);

/** Parses the `## root entries` section of a ROOT_LISTING.txt. */
export function parseRootListing(text: string): RootEntry[] {
  const out: RootEntry[] = [];
  let inRoot = false;
  for (const line of text.split('\n')) {
    if (line.startsWith('## ')) {
      inRoot = line.startsWith('## root entries');
      continue;
    }
    if (!inRoot) continue;
    const m = /^(file|dir|link)\s+(.+?)\/?\s*$/.exec(line);
    if (m?.[1] && m[2]) out.push({ name: m[2], kind: m[1] as RootEntry['kind'] });
  }
  return out;
}

/** A corpus snapshot: the copied files plus every root entry ROOT_LISTING.txt names. */
export function corpusRepoFiles(dir: string, listing: string): RepoFiles {
  const disk = directoryRepoFiles(dir);
  const listed = parseRootListing(listing);
  return {
    async listRoot() {
      const byName = new Map<string, RootEntry>();
      for (const e of listed) byName.set(e.name, e);
      for (const e of await disk.listRoot()) {
        if (!corpusMetaFiles.has(e.name) && !byName.has(e.name)) byName.set(e.name, e);
      }
      return [...byName.values()];
    },
    readText(path, options) {
      if (corpusMetaFiles.has(path)) return Promise.resolve(null);
      return disk.readText(path, options);
    },
    async exists(path) {
      if (corpusMetaFiles.has(path)) return false;
      return listed.some((e) => e.name === path) || disk.exists(path);
    },
  };
}

/** Opens a directory, as a corpus snapshot when it carries a ROOT_LISTING.txt. */
export async function openRepoFiles(dir: string): Promise<RepoFiles> {
  const listing = await readBelow(dir, rootListingFile, { maxBytes: defaultMaxBytes, truncate: true });
  return listing.ok ? corpusRepoFiles(dir, listing.content.toString('utf8')) : directoryRepoFiles(dir);
}

/** In-memory files for tests: `{ 'package.json': '...' }`, plus root entries known to exist unread. */
export function memoryRepoFiles(files: Record<string, string>, extraEntries: RootEntry[] = []): RepoFiles {
  const roots = new Map<string, RootEntry>();
  for (const path of Object.keys(files)) {
    const [first, ...rest] = path.split('/');
    if (first && !roots.has(first)) roots.set(first, { name: first, kind: rest.length > 0 ? 'dir' : 'file' });
  }
  for (const e of extraEntries) roots.set(e.name, e);
  return {
    async listRoot() {
      return [...roots.values()];
    },
    async readText(path, options) {
      const text = files[path];
      if (text === undefined) return null;
      return options?.maxBytes === undefined ? text : text.slice(0, options.maxBytes);
    },
    async exists(path) {
      return path in files || roots.has(path) || Object.keys(files).some((f) => f.startsWith(`${path}/`));
    },
  };
}

/**
 * A subdirectory seen as a repository of its own. Its listing is probed from `names` through
 * `exists`, so the three-call interface is all a backend has to offer.
 */
export function subdirRepoFiles(files: RepoFiles, dir: string, names: readonly string[]): RepoFiles {
  const prefix = `${dir.replace(/\/+$/, '')}/`;
  return {
    async listRoot() {
      const found = await Promise.all(
        names.map(async (name) => ((await files.exists(prefix + name)) ? name : null)),
      );
      return found.filter((n): n is string => n !== null).map((name) => ({ name, kind: 'file' as const }));
    },
    readText: (path, options) => files.readText(prefix + path, options),
    exists: (path) => files.exists(prefix + path),
  };
}
