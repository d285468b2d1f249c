// Picks one toolchain version from the pins a repo scatters over several files. Each detector
// lists its candidates in its own priority order; the first exact pin wins, ranges and minimums
// only decide when nothing is pinned, and every disagreement becomes a diagnostic that names the
// files and the winner.

import type { Diagnostic } from './diagnostics.js';
import type { Resolution, Source, Toolchain, ToolchainName } from './env-spec.js';
import {
  compareVersions,
  lineSatisfies,
  parseVersion,
  type VersionRange,
  versionsAgree,
} from './versions.js';

export interface Pin {
  version: string;
  requested?: string;
  resolution: Resolution;
  source: Source;
  /** For `range` pins: the constraint, checked against the winner. */
  range?: VersionRange;
}

function where(source: Source): string {
  return source.line ? `${source.file}:${source.line}` : source.file;
}

function describe(pin: Pin): string {
  return pin.requested && pin.requested !== pin.version
    ? `${where(pin.source)} (${pin.requested} → ${pin.version})`
    : `${where(pin.source)} (${pin.version})`;
}

/** Pins are given highest priority first; returns the chosen toolchain and any conflict diagnostics. */
export function choosePin(
  name: ToolchainName,
  pins: Pin[],
): { toolchain: Toolchain | null; diagnostics: Diagnostic[] } {
  const diagnostics: Diagnostic[] = [];
  const isPinned = (p: Pin) => p.resolution === 'exact' || p.resolution === 'alias';
  const winner =
    pins.find(isPinned) ??
    pins.find((p) => p.resolution === 'range') ??
    pins.find((p) => p.resolution === 'minimum') ??
    pins[0];
  if (!winner) return { toolchain: null, diagnostics };

  const disagreeing = pins.filter((p) => {
    if (p === winner) return false;
    if (isPinned(p)) return !versionsAgree(p.version, winner.version);
    if (p.range) return !lineSatisfies(p.range, winner.version);
    if (p.resolution === 'minimum') {
      const min = parseVersion(p.version);
      const got = parseVersion(winner.version);
      return min !== null && got !== null && compareVersions(got, min.slice(0, got.length)) < 0;
    }
    return false;
  });
  if (disagreeing.length > 0) {
    const first = disagreeing[0]!;
    diagnostics.push({
      severity: 'warning',
      code: 'conflicting-pins',
      message: `${name} versions disagree: ${[winner, ...disagreeing].map(describe).join(' vs ')}; using ${where(winner.source)} (${winner.version})`,
      file: first.source.file,
      ...(first.source.line ? { line: first.source.line } : {}),
    });
  }
  const toolchain: Toolchain = {
    name,
    version: winner.version,
    resolution: winner.resolution,
    source: winner.source,
    ...(winner.requested && winner.requested !== winner.version ? { requested: winner.requested } : {}),
  };
  return { toolchain, diagnostics };
}

/** Parses asdf/mise `.tool-versions` lines: `nodejs 24.13.0` → entries keyed by tool. */
export function parseToolVersions(text: string): Map<string, { version: string; line: number }> {
  const out = new Map<string, { version: string; line: number }>();
  text.split('\n').forEach((raw, i) => {
    const line = raw.replace(/#.*$/, '').trim();
    const [tool, version] = line.split(/\s+/);
    if (tool && version && !out.has(tool)) out.set(tool, { version, line: i + 1 });
  });
  return out;
}

/** First meaningful line of a one-line pin file (.nvmrc, .ruby-version), skipping comments. */
export function firstValue(text: string): { value: string; line: number } | null {
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const value = (lines[i] ?? '').replace(/#.*$/, '').trim();
    if (value) return { value, line: i + 1 };
  }
  return null;
}
