// Parsers for the manifest formats, turning a parse failure into a diagnostic that names the file
// and line instead of an exception.

import { parse as parseToml, TomlError } from 'smol-toml';
import { type Document, LineCounter, parseDocument } from 'yaml';
import type { Diagnostic } from './diagnostics.js';

export type Parsed<T> = { ok: true; value: T } | { ok: false; diagnostic: Diagnostic };

function malformed(file: string, kind: string, detail: string, line: number | undefined): Diagnostic {
  return {
    severity: 'error',
    code: 'malformed-manifest',
    message: `${file}${line ? `:${line}` : ''}: invalid ${kind}: ${detail}`,
    file,
    ...(line ? { line } : {}),
  };
}

function lineAtOffset(text: string, offset: number): number {
  let line = 1;
  for (let i = 0; i < offset && i < text.length; i++) if (text.charCodeAt(i) === 10) line++;
  return line;
}

export function parseJsonText(text: string, file: string): Parsed<unknown> {
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    // V8 says "... at position N" (Node 20) and adds "(line L column C)" on newer versions; an
    // unexpected end points at the last line.
    const lineMatch = /line (\d+)/.exec(message);
    const posMatch = /position (\d+)/.exec(message);
    const line = lineMatch?.[1]
      ? Number(lineMatch[1])
      : posMatch?.[1]
        ? lineAtOffset(text, Number(posMatch[1]))
        : lineAtOffset(text, text.trimEnd().length);
    return { ok: false, diagnostic: malformed(file, 'JSON', message.split('\n')[0] ?? message, line) };
  }
}

export function parseTomlText(text: string, file: string): Parsed<Record<string, unknown>> {
  try {
    return { ok: true, value: parseToml(text) as Record<string, unknown> };
  } catch (error) {
    if (error instanceof TomlError) {
      const first = error.message.split('\n').find((l) => l.trim() !== '') ?? error.message;
      return {
        ok: false,
        diagnostic: malformed(file, 'TOML', first.replace(/^Invalid TOML document:\s*/, ''), error.line),
      };
    }
    return { ok: false, diagnostic: malformed(file, 'TOML', String(error), undefined) };
  }
}

export interface ParsedYaml {
  doc: Document;
  lines: LineCounter;
}

export function parseYamlText(text: string, file: string): Parsed<ParsedYaml> {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, uniqueKeys: false });
  const error = doc.errors[0];
  if (error) {
    const line = error.linePos?.[0]?.line;
    return { ok: false, diagnostic: malformed(file, 'YAML', error.message.split('\n')[0] ?? '', line) };
  }
  return { ok: true, value: { doc, lines } };
}

/** 1-based line of the first line containing `needle`, for provenance in formats parsed without positions. */
export function lineOf(text: string, needle: string | RegExp): number | undefined {
  const lines = text.split('\n');
  const index = lines.findIndex((l) => (typeof needle === 'string' ? l.includes(needle) : needle.test(l)));
  return index === -1 ? undefined : index + 1;
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

export function stringAt(value: unknown, ...path: string[]): string | undefined {
  let v: unknown = value;
  for (const key of path) {
    if (!isRecord(v)) return undefined;
    v = v[key];
  }
  return typeof v === 'string' ? v : undefined;
}

export function recordAt(value: unknown, ...path: string[]): Record<string, unknown> | undefined {
  let v: unknown = value;
  for (const key of path) {
    if (!isRecord(v)) return undefined;
    v = v[key];
  }
  return isRecord(v) ? v : undefined;
}
