// The clear refusal for a spec that asks for something the pinned nixpkgs cannot supply: every
// offending fact with its version, the file that asked for it, why, and what is available.

import type { Source } from '../detect/env-spec.js';
import { NixSpaceError } from '../errors.js';

export interface UnsupportedFact {
  kind: 'toolchain' | 'service';
  name: string;
  version: string;
  source: Source;
  reason: string;
  available: string[];
}

export function describeSource(source: Source): string {
  return source.line === undefined ? source.file : `${source.file}:${source.line}`;
}

export function describeUnsupported(fact: UnsupportedFact): string {
  const available = fact.available.length === 0 ? '' : ` (available: ${fact.available.join(', ')})`;
  return `${fact.name} ${fact.version} (from ${describeSource(fact.source)}) cannot be supplied: ${fact.reason}${available}`;
}

export class UnsupportedVersionError extends NixSpaceError {
  readonly facts: readonly UnsupportedFact[];

  constructor(facts: readonly UnsupportedFact[]) {
    super('UNSUPPORTED_VERSION', facts.map(describeUnsupported).join('; '));
    this.facts = facts;
  }
}
