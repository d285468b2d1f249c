// bench/results.json: one entry per figure; a run replaces the figures it measured and keeps the
// others, so each part of NixSpace can add its own.

import { existsSync, readFileSync, writeFileSync } from 'node:fs';

export interface BenchResult {
  name: string;
  value: number;
  unit: string;
  baseline?: number;
  ratio?: number;
  note?: string;
}

export function withRatio(result: Omit<BenchResult, 'ratio'>): BenchResult {
  return result.baseline ? { ...result, ratio: round(result.value / result.baseline, 2) } : result;
}

export function round(value: number, digits = 1): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}

export function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[index] ?? Number.NaN;
}

export function saveResults(path: string, results: BenchResult[]): BenchResult[] {
  const previous: BenchResult[] = existsSync(path)
    ? (JSON.parse(readFileSync(path, 'utf8')) as BenchResult[])
    : [];
  const names = new Set(results.map((r) => r.name));
  const merged = [...previous.filter((r) => !names.has(r.name)), ...results];
  writeFileSync(path, `${JSON.stringify(merged, null, 2)}\n`);
  return merged;
}

export function printTable(results: BenchResult[]): void {
  const rows = results.map((r) => [
    r.name,
    `${r.value} ${r.unit}`,
    r.baseline === undefined ? '' : `${r.baseline} ${r.unit}`,
    r.ratio === undefined ? '' : `${r.ratio}×`,
    r.note ?? '',
  ]);
  const header = ['figure', 'value', 'baseline', 'ratio', 'note'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i]!)).join('  ');
  console.log(line(header));
  console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const row of rows) console.log(line(row));
}
