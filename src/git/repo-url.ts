// Turns what a person pasted into a RepoUrl git can be given, or a NixSpaceError saying why not.
//
// Accepted: https:// and http:// URLs (http for self-hosted servers and loopback), file:// URLs
// and absolute local paths. Relative paths are refused rather than resolved against the server's
// working directory: that directory means nothing to the person typing, and "github.com/o/r"
// typed without a scheme would otherwise silently become a local path.

import { createHash } from 'node:crypto';
import { isAbsolute, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { NixSpaceError } from '../errors.js';
import type { RepoScheme, RepoUrl } from './source.js';

const supported = 'https://, http://, file:// or an absolute path';

export function parseRepoUrl(input: string): RepoUrl {
  const text = input.trim();
  if (text === '') throw new NixSpaceError('INVALID_URL', 'The repository URL is empty');
  const shown = describeInput(text);
  if (/[\s\p{Cc}]/u.test(text)) {
    throw new NixSpaceError(
      'INVALID_URL',
      `${shown} is not a repository URL: it contains spaces or control characters`,
    );
  }

  const scheme = /^([a-zA-Z][a-zA-Z0-9+.-]*):/.exec(text)?.[1]?.toLowerCase();
  if (scheme === 'https' || scheme === 'http') return parseHttp(text, scheme, shown);
  if (scheme === 'file') return parseFileUrl(text, shown);
  if (scheme !== undefined && text.slice(scheme.length + 1).startsWith('//')) {
    throw new NixSpaceError(
      'UNSUPPORTED_SCHEME',
      `${shown} uses ${scheme}://, which NixSpace does not fetch from; use ${supported}`,
    );
  }
  if (text.startsWith('/')) return localRepo(resolve(text));
  // git's scp-like SSH shorthand: [user@]host:path. A bare "word:" is read as a scheme unless the
  // word looks like a host name (has a dot), as in "github.com:owner/repo".
  const scpHost = /^(?:[^/@:]+@)?([^/@:]+):/.exec(text)?.[1];
  if (scpHost !== undefined && (text.includes('@') || scpHost.includes('.') || scheme === undefined)) {
    throw new NixSpaceError(
      'UNSUPPORTED_SCHEME',
      `${shown} is an SSH address ([user@]host:path), which NixSpace does not fetch from; use ${supported}`,
    );
  }
  if (scheme !== undefined) {
    throw new NixSpaceError(
      'UNSUPPORTED_SCHEME',
      `${shown} uses the ${scheme}: scheme, which NixSpace does not fetch from; use ${supported}`,
    );
  }
  const hint = /^[^/]+\.[^/]+\//.test(text) ? ` (did you mean https://${text}?)` : '';
  throw new NixSpaceError(
    'INVALID_URL',
    `${shown} is not a repository URL${hint}: use ${supported}; relative paths are not accepted`,
  );
}

/** The URL with any user:password removed, safe to print and to store in git config. */
export function redactUrl(url: string): string {
  return url.replace(/^([a-zA-Z][a-zA-Z0-9+.-]*:\/\/)[^/@]*@/, '$1');
}

function parseHttp(text: string, scheme: 'http' | 'https', shown: string): RepoUrl {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new NixSpaceError('INVALID_URL', `${shown} is not a valid ${scheme} URL`);
  }
  if (url.hostname === '') throw new NixSpaceError('INVALID_URL', `${shown} has no host name`);
  // A fragment is browser-only (e.g. "#readme" pasted from the web UI); git never sees it.
  url.hash = '';
  const path = url.pathname.replace(/\/+$/, '');
  if (path === '') {
    throw new NixSpaceError(
      'INVALID_URL',
      `${shown} names a host but no repository path (e.g. ${scheme}://host/owner/repo)`,
    );
  }
  url.pathname = path;
  const full = url.toString();
  const credentialFree = redactUrl(full);
  return {
    url: full,
    safeUrl: credentialFree,
    scheme,
    mirrorKey: mirrorKey(`${url.host}${path}`, credentialFree),
    displayName: shortName(path, 2),
  };
}

function parseFileUrl(text: string, shown: string): RepoUrl {
  let path: string;
  try {
    const url = new URL(text);
    if (url.hostname !== '' && url.hostname !== 'localhost') {
      throw new NixSpaceError(
        'INVALID_URL',
        `${shown} names a host (${url.hostname}); file:// URLs must point at this machine, e.g. file:///srv/git/repo.git`,
      );
    }
    path = fileURLToPath(new URL(`file://${url.pathname}`));
  } catch (error) {
    if (error instanceof NixSpaceError) throw error;
    throw new NixSpaceError('INVALID_URL', `${shown} is not a valid file:// URL`);
  }
  if (!isAbsolute(path) || path === '/') {
    throw new NixSpaceError('INVALID_URL', `${shown} does not name a repository directory`);
  }
  return localRepo(resolve(path));
}

function localRepo(path: string): RepoUrl {
  if (path === '/') throw new NixSpaceError('INVALID_URL', `'/' does not name a repository directory`);
  return {
    url: path,
    safeUrl: path,
    scheme: 'file' satisfies RepoScheme,
    mirrorKey: mirrorKey(`local${path}`, `file://${path}`),
    displayName: shortName(path, 1),
  };
}

/** Readable prefix for humans plus a hash of the normalised URL, so distinct URLs never share a key. */
function mirrorKey(readable: string, normalised: string): string {
  const slug = readable
    .toLowerCase()
    .replace(/[^a-z0-9._-]+/g, '-')
    .replace(/^[-.]+|[-.]+$/g, '')
    .replace(/\.git$/, '')
    .slice(0, 80);
  const hash = createHash('sha256').update(normalised).digest('hex').slice(0, 16);
  return `${slug || 'repo'}-${hash}`;
}

function shortName(path: string, segments: number): string {
  const parts = path.split('/').filter((part) => part !== '');
  const last = parts.slice(-segments).map((part) => decodeSafely(part));
  const lastIndex = last.length - 1;
  if (lastIndex >= 0) last[lastIndex] = last[lastIndex]!.replace(/\.git$/, '');
  return last.join('/') || path;
}

function decodeSafely(part: string): string {
  try {
    return decodeURIComponent(part);
  } catch {
    return part;
  }
}

/** Quotes the input for a message, without credentials and bounded in length. */
function describeInput(text: string): string {
  const clean = redactUrl(text);
  return `'${clean.length > 200 ? `${clean.slice(0, 200)}…` : clean}'`;
}
