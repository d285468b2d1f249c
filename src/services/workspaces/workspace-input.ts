// What a request may name: a branch, tag or commit, and a workspace id.

import { NixSpaceError } from '../../errors.js';

/** The ref asked for, trimmed (null when none), refused when git would not take it. */
export function normaliseRef(ref: string | null | undefined): string | null {
  const trimmed = ref?.trim();
  if (!trimmed) return null;
  // The same rules as `git check-ref-format`, plus plain commit ids.
  if (
    trimmed.length > 255 ||
    // biome-ignore lint/suspicious/noControlCharactersInRegex: git forbids control characters in refs.
    /[\s~^:?*[\\\x00-\x1f\x7f]/.test(trimmed) ||
    trimmed.includes('..') ||
    trimmed.includes('@{') ||
    trimmed.startsWith('-') ||
    trimmed.startsWith('/') ||
    trimmed.endsWith('/') ||
    trimmed.endsWith('.lock') ||
    trimmed.endsWith('.')
  ) {
    throw new NixSpaceError('BAD_REQUEST', `'${trimmed}' is not a valid branch, tag or commit name`);
  }
  return trimmed;
}

export function isUuid(value: string): boolean {
  return /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(value);
}
