// Go modules. Exact pins: .go-version > .tool-versions > go.work `toolchain` > go.mod `toolchain`;
// the `go` directive (wherever it stands in the file) is a minimum, used when nothing pins.

import type { DetectContext, Detector, Fragment } from '../detector.js';
import type { Source, Toolchain } from '../env-spec.js';
import { choosePin, firstValue, type Pin, parseToolVersions } from '../pins.js';
import { goNewest } from '../version-table.js';
import { compareVersions, parseVersion } from '../versions.js';

/** The `go` and `toolchain` directives of go.mod / go.work, at any position, outside comments. */
export function parseGoDirectives(text: string): {
  go?: { version: string; line: number };
  toolchain?: { version: string; line: number };
} {
  const out: { go?: { version: string; line: number }; toolchain?: { version: string; line: number } } = {};
  text.split('\n').forEach((raw, i) => {
    const line = raw.replace(/\/\/.*$/, '').trim();
    const go = /^go\s+(\S+)$/.exec(line);
    if (go?.[1] && !out.go) out.go = { version: go[1], line: i + 1 };
    const tc = /^toolchain\s+(\S+)$/.exec(line);
    if (tc?.[1] && !out.toolchain) out.toolchain = { version: tc[1], line: i + 1 };
  });
  return out;
}

function goPin(raw: string, source: Source, resolution: 'exact' | 'minimum', ctx: DetectContext): Pin | null {
  const value = raw.trim();
  if (value === 'default' || value === 'local') return null;
  const m = /^(?:go)?(\d+\.\d+(?:\.\d+)?(?:(?:rc|beta)\d+)?)$/.exec(value);
  if (m?.[1]) return { version: m[1], resolution, source, ...(m[1] !== value ? { requested: value } : {}) };
  ctx.report({
    severity: 'warning',
    code: 'unknown-version',
    message: `${source.file}: "${value}" is not a Go version; ignored`,
    file: source.file,
    ...(source.line ? { line: source.line } : {}),
  });
  return null;
}

export const goDetector: Detector = {
  name: 'go',
  async detect(ctx): Promise<Fragment> {
    const marker = ctx.has('go.mod') ? 'go.mod' : ctx.has('go.work') ? 'go.work' : undefined;
    if (!marker) return {};
    const pins: Pin[] = [];
    const add = (p: Pin | null) => {
      if (p) pins.push(p);
    };
    const gv = ctx.has('.go-version') ? await ctx.read('.go-version') : null;
    const first = gv === null ? null : firstValue(gv);
    if (first) add(goPin(first.value, { file: '.go-version', line: first.line }, 'exact', ctx));
    const tv = ctx.has('.tool-versions') ? await ctx.read('.tool-versions') : null;
    const tools = tv === null ? undefined : parseToolVersions(tv);
    const entry = tools?.get('golang') ?? tools?.get('go');
    if (entry) add(goPin(entry.version, { file: '.tool-versions', line: entry.line }, 'exact', ctx));
    const work = ctx.has('go.work') ? await ctx.read('go.work') : null;
    const mod = ctx.has('go.mod') ? await ctx.read('go.mod') : null;
    const w = work === null ? {} : parseGoDirectives(work);
    const m = mod === null ? {} : parseGoDirectives(mod);
    if (w.toolchain)
      add(goPin(w.toolchain.version, { file: 'go.work', line: w.toolchain.line }, 'exact', ctx));
    if (m.toolchain)
      add(goPin(m.toolchain.version, { file: 'go.mod', line: m.toolchain.line }, 'exact', ctx));
    if (w.go) add(goPin(w.go.version, { file: 'go.work', line: w.go.line }, 'minimum', ctx));
    if (m.go) add(goPin(m.go.version, { file: 'go.mod', line: m.go.line }, 'minimum', ctx));

    const chosen = choosePin('go', pins);
    for (const d of chosen.diagnostics) ctx.report(d);
    const toolchain: Toolchain = chosen.toolchain ?? {
      name: 'go',
      version: goNewest,
      resolution: 'default',
      source: { file: marker },
    };
    const v = parseVersion(toolchain.version);
    const newest = parseVersion(goNewest)!;
    if (v && compareVersions(v.slice(0, 2), newest) > 0) {
      ctx.report({
        severity: 'warning',
        code: 'unknown-version',
        message: `Go ${toolchain.version} (${toolchain.source.file}) is newer than any release NixSpace knows (newest: ${goNewest})`,
        file: toolchain.source.file,
        ...(toolchain.source.line ? { line: toolchain.source.line } : {}),
      });
    }
    return {
      toolchains: [toolchain],
      packageManagers: [
        {
          name: 'go',
          toolchain: 'go',
          source: { file: marker },
          ...(ctx.has('go.sum') ? { lockfile: 'go.sum' } : {}),
        },
      ],
      setup: [{ command: 'go mod download', toolchain: 'go', source: { file: marker } }],
    };
  },
};
