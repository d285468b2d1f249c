// A structured diff of two EnvSpecs: what an environment changed against its parent, as
// `environment_versions.changes` stores it and the diff view shows it. Only the facts that make
// an environment different are compared (toolchains, package managers, services, system packages,
// variables by name, setup commands); where a fact came from is not a change.

import type { EnvSpec } from '../../detect/env-spec.js';
import type { FactChange, SpecDiff } from '../../wire/environments.js';

export type { FactChange, SpecDiff } from '../../wire/environments.js';

type Facts = Map<string, { kind: FactChange['kind']; name: string; value: string | null }>;

function facts(spec: EnvSpec | null | undefined): Facts {
  const out: Facts = new Map();
  if (!spec) return out;
  const put = (kind: FactChange['kind'], name: string, value: string | null) =>
    out.set(`${kind}\0${name}`, { kind, name, value });
  for (const t of spec.toolchains) put('toolchain', t.name, t.version);
  for (const p of spec.packageManagers)
    put('package-manager', p.name, [p.version, p.variant].filter(Boolean).join(' ') || null);
  for (const s of spec.services) put('service', s.name, s.version);
  for (const p of spec.systemPackages) put('system-package', p.name, null);
  // Variables by name and whether they are secret: values may be secrets and never leave the spec.
  for (const v of spec.env) put('variable', v.name, v.secret ? 'secret' : 'set');
  for (const c of spec.setup) put('setup', c.command, null);
  return out;
}

export function diffSpecs(from: EnvSpec | null | undefined, to: EnvSpec | null | undefined): SpecDiff {
  const before = facts(from);
  const after = facts(to);
  const changes: FactChange[] = [];
  for (const [key, fact] of after) {
    const old = before.get(key);
    if (!old) changes.push({ kind: fact.kind, name: fact.name, change: 'added', from: null, to: fact.value });
    else if (old.value !== fact.value)
      changes.push({ kind: fact.kind, name: fact.name, change: 'changed', from: old.value, to: fact.value });
  }
  for (const [key, fact] of before) {
    if (!after.has(key))
      changes.push({ kind: fact.kind, name: fact.name, change: 'removed', from: fact.value, to: null });
  }
  const order: FactChange['kind'][] = [
    'toolchain',
    'service',
    'package-manager',
    'system-package',
    'variable',
    'setup',
  ];
  changes.sort((a, b) => order.indexOf(a.kind) - order.indexOf(b.kind) || a.name.localeCompare(b.name));
  const summary = changes.length === 0 && !from ? 'empty environment' : summarise(changes);
  return { changes, summary };
}

function summarise(changes: FactChange[]): string {
  if (changes.length === 0) return 'no changes';
  const shown = changes
    .filter((c) => c.kind === 'toolchain' || c.kind === 'service' || c.kind === 'package-manager')
    .map((c) => {
      if (c.change === 'added') return `+${c.name}${c.to ? ` ${c.to}` : ''}`;
      if (c.change === 'removed') return `-${c.name}${c.from ? ` ${c.from}` : ''}`;
      return `${c.name} ${c.from ?? '?'} → ${c.to ?? '?'}`;
    });
  const rest = changes.length - shown.length;
  if (rest > 0) shown.push(`${rest} other change${rest === 1 ? '' : 's'}`);
  return shown.join(', ');
}
