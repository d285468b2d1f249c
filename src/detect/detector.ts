// The contract every ecosystem detector implements, and the context they share: cached reads and
// parses (package.json is read by the Node, services and jobs detectors but parsed, and
// reported if malformed, once).

import type { Diagnostic } from './diagnostics.js';
import type { EnvSpec } from './env-spec.js';
import {
  type Parsed,
  type ParsedYaml,
  parseJsonText,
  parseTomlText,
  parseYamlText,
} from './manifest-parse.js';
import type { RepoFiles, RootEntry } from './repo-files.js';

/** What one detector contributes; `detect()` concatenates and de-duplicates fragments. */
export type Fragment = Partial<Omit<EnvSpec, 'schemaVersion'>>;

export interface DetectContext {
  readonly root: ReadonlyMap<string, RootEntry>;
  /** A root entry exists (even one a corpus snapshot did not copy). */
  has(name: string): boolean;
  read(path: string): Promise<string | null>;
  /** Any path, including below the root (workspace members in a real checkout). */
  exists(path: string): Promise<boolean>;
  /** The first 64 KiB: enough for a lock file's header and format version. */
  readHead(path: string): Promise<string | null>;
  /** Parsed manifest, or undefined when absent or malformed (the diagnostic is recorded once). */
  json(path: string): Promise<unknown | undefined>;
  toml(path: string): Promise<Record<string, unknown> | undefined>;
  yaml(path: string): Promise<ParsedYaml | undefined>;
  report(diagnostic: Diagnostic): void;
}

export interface Detector {
  readonly name: string;
  detect(ctx: DetectContext): Promise<Fragment>;
}

const lockHeadBytes = 64 * 1024;

export async function createContext(files: RepoFiles): Promise<{
  ctx: DetectContext;
  diagnostics: Diagnostic[];
}> {
  const root = new Map((await files.listRoot()).map((e) => [e.name, e] as const));
  const diagnostics: Diagnostic[] = [];
  const texts = new Map<string, Promise<string | null>>();
  const heads = new Map<string, Promise<string | null>>();
  const parsed = new Map<string, Promise<unknown | undefined>>();

  const unread = new Set<string>();
  // A file that is there but not read (a symlink) is named once, and read as absent.
  const readFrom = async (path: string, options?: { maxBytes: number }): Promise<string | null> => {
    const got = await files.readText(path, options);
    if (got === null || typeof got === 'string') return got;
    if (!unread.has(path)) {
      unread.add(path);
      diagnostics.push({ severity: 'warning', code: 'unread-file', message: got.unread, file: path });
    }
    return null;
  };

  const read = (path: string) => {
    let p = texts.get(path);
    if (!p) {
      p = readFrom(path);
      texts.set(path, p);
    }
    return p;
  };

  function parseWith<T>(kind: string, path: string, parse: (text: string, file: string) => Parsed<T>) {
    const key = `${kind}:${path}`;
    let p = parsed.get(key);
    if (!p) {
      p = read(path).then((text) => {
        if (text === null) return undefined;
        const result = parse(text, path);
        if (result.ok) return result.value;
        diagnostics.push(result.diagnostic);
        return undefined;
      });
      parsed.set(key, p);
    }
    return p as Promise<T | undefined>;
  }

  const ctx: DetectContext = {
    root,
    has: (name) => root.has(name),
    read,
    exists: (path) => files.exists(path),
    readHead(path) {
      const full = texts.get(path);
      if (full) return full;
      let p = heads.get(path);
      if (!p) {
        p = readFrom(path, { maxBytes: lockHeadBytes });
        heads.set(path, p);
      }
      return p;
    },
    json: (path) => parseWith('json', path, parseJsonText),
    toml: (path) => parseWith('toml', path, parseTomlText),
    yaml: (path) => parseWith('yaml', path, parseYamlText),
    report: (d) => {
      diagnostics.push(d);
    },
  };
  return { ctx, diagnostics };
}
