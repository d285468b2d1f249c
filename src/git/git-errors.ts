// Turns a failed or interrupted git run into a NixSpaceError a person can act on. git's own
// messages (LC_ALL=C) are matched here, in one place, so the wording of a new git release only
// needs fixing once.

import { NixSpaceError } from '../errors.js';
import { redactUrl } from './repo-url.js';
import { type GitResult, GitTimeoutError } from './run-git.js';
import type { RepoUrl } from './source.js';

/** What git was doing, for messages: "listing refs of", "fetching", ... */
export interface GitContext {
  repo: RepoUrl;
  action: string;
}

export function failedGit(context: GitContext, result: GitResult): NixSpaceError {
  const { repo } = context;
  const stderr = redactText(result.stderr);
  const detail = stderr.trim() === '' ? undefined : stderr.trim();
  const make = (code: ConstructorParameters<typeof NixSpaceError>[0], message: string): NixSpaceError =>
    new NixSpaceError(code, message, detail === undefined ? {} : { detail });
  const where = `Repository ${repo.safeUrl}`;

  const status = /returned error: (\d{3})/.exec(stderr)?.[1];
  if (/repository '.*' not found/.test(stderr) || status === '404') {
    return make('REPO_NOT_FOUND', `${where} was not found (the server answered 404)`);
  }
  if (
    status === '401' ||
    status === '403' ||
    /could not read (Username|Password)|Authentication failed/.test(stderr)
  ) {
    return make(
      'REPO_NOT_FOUND',
      `${where} was not found or is private (the server asked for credentials${status ? `, HTTP ${status}` : ''})`,
    );
  }
  if (/does not appear to be a git repository/.test(stderr)) {
    return make('REPO_NOT_FOUND', `${where} was not found: there is no git repository at that path`);
  }
  const unresolved = /Could not resolve host: ([^\s:'"]+)/.exec(stderr)?.[1];
  if (unresolved !== undefined) {
    return make(
      'HOST_UNREACHABLE',
      `Could not reach ${unresolved}: the host name does not resolve (${where})`,
    );
  }
  const connect = /Failed to connect to (\S+) port (\d+)/.exec(stderr);
  if (connect !== null) {
    const why = /Connection refused|Couldn't connect/.test(stderr)
      ? 'the connection was refused'
      : 'no connection';
    return make('HOST_UNREACHABLE', `Could not reach ${connect[1]}:${connect[2]}: ${why} (${where})`);
  }
  if (/timed out|Connection reset|Empty reply from server|RPC failed/i.test(stderr)) {
    return make(
      'HOST_UNREACHABLE',
      `The connection to ${hostOf(repo)} failed while ${context.action} ${repo.displayName}`,
    );
  }
  if (/SSL|certificate|TLS/i.test(stderr)) {
    return make(
      'GIT_FAILED',
      `Could not set up a secure connection to ${hostOf(repo)}: ${lastProblem(stderr)}`,
    );
  }
  if (status?.startsWith('3')) {
    return make(
      'GIT_FAILED',
      `${where} answered with a redirect (HTTP ${status}): NixSpace does not follow redirects, since one could lead to an address it refuses to fetch from; use the URL the repository moved to`,
    );
  }
  if (status !== undefined) {
    return make('GIT_FAILED', `${where} answered HTTP ${status} while ${context.action} it`);
  }
  return make('GIT_FAILED', `git failed while ${context.action} ${repo.displayName}: ${lastProblem(stderr)}`);
}

/** Maps a rejection of runGit: timeouts name the host and the limit; anything else passes through. */
export function interruptedGit(context: GitContext, error: unknown): unknown {
  if (!(error instanceof GitTimeoutError)) return error;
  const seconds = formatSeconds(error.limitMs);
  const { repo } = context;
  if (repo.scheme === 'file') {
    return new NixSpaceError(
      'GIT_FAILED',
      `git did not finish within ${seconds} while ${context.action} ${repo.safeUrl}`,
    );
  }
  const message =
    error.kind === 'total'
      ? `git did not answer within ${seconds} contacting ${hostOf(repo)} (${context.action} ${repo.safeUrl}); the host may be down or unreachable`
      : `git received nothing from ${hostOf(repo)} for ${seconds} while ${context.action} ${repo.safeUrl}; the host may be down or unreachable`;
  return new NixSpaceError('HOST_UNREACHABLE', message, { cause: error });
}

export function hostOf(repo: RepoUrl): string {
  if (repo.scheme === 'file') return 'this machine';
  try {
    return new URL(repo.safeUrl).host;
  } catch {
    return repo.safeUrl;
  }
}

export function formatSeconds(ms: number): string {
  const seconds = ms / 1000;
  return `${Number.isInteger(seconds) ? seconds : seconds.toFixed(1)} s`;
}

export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return `${value.toFixed(value < 10 ? 1 : 0)} ${units[unit]}`;
}

/** Removes user:password from every URL in a text (git echoes URLs in its messages). */
export function redactText(text: string): string {
  return text.replace(/[a-zA-Z][a-zA-Z0-9+.-]*:\/\/[^\s'"]+/g, (url) => redactUrl(url));
}

function lastProblem(stderr: string): string {
  const lines = stderr
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '');
  const fatal = lines.filter((line) => /^(fatal|error):/.test(line)).at(0) ?? lines.at(-1) ?? 'no message';
  return fatal.replace(/^(fatal|error):\s*/, '');
}
