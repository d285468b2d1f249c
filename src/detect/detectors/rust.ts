// Rust with cargo. Toolchain from rust-toolchain.toml > the legacy rust-toolchain file (a bare
// channel or, since rustup 1.23, TOML) > `rust-version` (the MSRV) > stable.

import type { DetectContext, Detector, Fragment } from '../detector.js';
import type { Source, Toolchain } from '../env-spec.js';
import { lineOf, parseTomlText, recordAt, stringAt } from '../manifest-parse.js';
import { choosePin, firstValue, type Pin } from '../pins.js';

/** `stable`, `beta`, `nightly`, `nightly-2026-07-19`, `1.90`, `1.90.0`, `stable-x86_64-unknown-linux-gnu`. */
export function parseRustChannel(raw: string): { version: string; resolution: 'exact' | 'alias' } | null {
  const c = raw.trim();
  const m = /^(stable|beta|nightly)(-\d{4}-\d{2}-\d{2})?(?:-[a-z0-9_]+-[a-z0-9_]+.*)?$/.exec(c);
  if (m?.[1]) return { version: `${m[1]}${m[2] ?? ''}`, resolution: m[2] ? 'exact' : 'alias' };
  const v = /^(\d+\.\d+(?:\.\d+)?)(?:-[a-z0-9_]+-[a-z0-9_]+.*)?$/.exec(c);
  if (v?.[1]) return { version: v[1], resolution: 'exact' };
  return null;
}

function channelPin(raw: string, source: Source, ctx: DetectContext): Pin | null {
  const parsed = parseRustChannel(raw);
  if (parsed)
    return { ...parsed, source, ...(parsed.version !== raw.trim() ? { requested: raw.trim() } : {}) };
  ctx.report({
    severity: 'warning',
    code: 'unknown-version',
    message: `${source.file}: "${raw.trim()}" is not a Rust toolchain channel; ignored`,
    file: source.file,
    ...(source.line ? { line: source.line } : {}),
  });
  return null;
}

async function toolchainFilePin(ctx: DetectContext, file: string): Promise<Pin | null> {
  const text = await ctx.read(file);
  if (text === null) return null;
  const looksToml = file.endsWith('.toml') || /^\s*\[toolchain\]/m.test(text);
  if (looksToml) {
    const parsed = file.endsWith('.toml') ? await ctx.toml(file) : parseLegacyToml(text, file, ctx);
    const channel = stringAt(parsed, 'toolchain', 'channel');
    if (!channel) {
      if (parsed && !stringAt(parsed, 'toolchain', 'path')) {
        ctx.report({
          severity: 'warning',
          code: 'unknown-version',
          message: `${file}: no [toolchain] channel; using the default`,
          file,
        });
      }
      return null;
    }
    const line = lineOf(text, /^\s*channel\s*=/);
    return channelPin(channel, { file, ...(line ? { line } : {}) }, ctx);
  }
  const first = firstValue(text);
  return first ? channelPin(first.value, { file, line: first.line }, ctx) : null;
}

function parseLegacyToml(
  text: string,
  file: string,
  ctx: DetectContext,
): Record<string, unknown> | undefined {
  const r = parseTomlText(text, file);
  if (r.ok) return r.value;
  ctx.report(r.diagnostic);
  return undefined;
}

export const rustDetector: Detector = {
  name: 'rust',
  async detect(ctx): Promise<Fragment> {
    if (!ctx.has('Cargo.toml')) return {};
    const pins: Pin[] = [];
    for (const file of ['rust-toolchain.toml', 'rust-toolchain']) {
      if (!ctx.has(file)) continue;
      const pin = await toolchainFilePin(ctx, file);
      if (pin) pins.push(pin);
    }
    const cargo = await ctx.toml('Cargo.toml');
    const cargoText = await ctx.read('Cargo.toml');
    const msrv =
      stringAt(cargo, 'package', 'rust-version') ??
      stringAt(recordAt(cargo, 'workspace'), 'package', 'rust-version');
    if (msrv) {
      const line = cargoText === null ? undefined : lineOf(cargoText, /^\s*rust-version\s*=/);
      // The MSRV is a floor, used when nothing pins a toolchain: it is what CI proves builds.
      pins.push({
        version: msrv,
        resolution: 'minimum',
        source: { file: 'Cargo.toml', ...(line ? { line } : {}) },
      });
    }
    const chosen = choosePin('rust', pins);
    for (const d of chosen.diagnostics) ctx.report(d);
    const toolchain: Toolchain = chosen.toolchain ?? {
      name: 'rust',
      version: 'stable',
      resolution: 'default',
      source: { file: 'Cargo.toml' },
    };
    const lockfile = ctx.has('Cargo.lock') ? 'Cargo.lock' : undefined;
    return {
      toolchains: [toolchain],
      packageManagers: [
        {
          name: 'cargo',
          toolchain: 'rust',
          source: { file: 'Cargo.toml' },
          ...(lockfile ? { lockfile } : {}),
        },
      ],
      setup: [
        {
          command: lockfile ? 'cargo fetch --locked' : 'cargo fetch',
          toolchain: 'rust',
          source: { file: lockfile ?? 'Cargo.toml' },
        },
      ],
    };
  },
};
