// The environment of a workspace in GraphQL: how it was provided and how reproducible it is,
// why Nix was not used, and per tool what was wanted, what runs and how to get what is missing.

import type { ReportEntry } from '../nix/environment-provider.js';
import type { WorkspaceEnvironmentRecord } from '../store/schema.js';
import type { GraphQLBuilder } from './graphql.js';

export function environmentObject(builder: GraphQLBuilder) {
  const Tool = builder.objectRef<ReportEntry>('EnvironmentTool').implement({
    description: 'A toolchain, package manager or service the repository asks for, and what it got.',
    fields: (t) => ({
      kind: t.exposeString('kind'),
      name: t.exposeString('name'),
      wanted: t.exposeString('wanted', { nullable: true }),
      requested: t.string({ nullable: true, resolve: (e) => e.requested ?? null }),
      provided: t.exposeString('provided', { nullable: true }),
      status: t.exposeString('status'),
      origin: t.string({ nullable: true, resolve: (e) => e.origin ?? null }),
      source: t.string({ nullable: true, resolve: (e) => e.source ?? null }),
      message: t.exposeString('message'),
      hint: t.string({ nullable: true, resolve: (e) => e.hint ?? null }),
    }),
  });
  return builder.objectRef<WorkspaceEnvironmentRecord>('WorkspaceEnvironment').implement({
    description: 'What the workspace runs with, and how exactly it can be had again.',
    fields: (t) => ({
      hash: t.exposeString('hash'),
      provider: t.exposeString('provider'),
      reproducible: t.exposeBoolean('reproducible'),
      reproducibility: t.string({
        description:
          '`reproducible` (Nix), `pinned` (releases from the npm registry over host tools) or `none`.',
        resolve: (e) => e.reproducibility ?? (e.reproducible ? 'reproducible' : 'none'),
      }),
      cached: t.exposeBoolean('cached'),
      fallbackReason: t.string({
        nullable: true,
        description: 'Why Nix was not used, with the actual error.',
        resolve: (e) => e.fallback?.message ?? null,
      }),
      tools: t.field({ type: [Tool], resolve: (e) => e.report as ReportEntry[] }),
    }),
  });
}
