// GraphQL at /graphql (graphql-yoga + Pothos), with the operations the brief names:
// createEnvironment, getEnvironment, and a progress subscription (served over SSE).

import SchemaBuilder from '@pothos/core';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { GraphQLError } from 'graphql';
import { createYoga, Repeater } from 'graphql-yoga';
import { NixSpaceError } from '../errors.js';
import type { User } from '../services/access/access-service.js';
import type { ShareService } from '../services/access/share-service.js';
import type { FactChange, SpecDiff } from '../services/environments/spec-diff.js';
import type { WorkspaceService } from '../services/workspaces/workspace-service.js';
import type { StepView, WorkspaceView } from '../services/workspaces/workspace-view.js';
import type { EnvironmentVersion } from '../wire/environments.js';
import type { CreatedShare, ShareLink } from '../wire/shares.js';
import { environmentObject } from './graphql-environment.js';

interface Context {
  user: User | undefined;
  req: FastifyRequest;
  reply: FastifyReply;
}

function toGraphQLError(error: unknown): GraphQLError {
  if (error instanceof NixSpaceError) {
    return new GraphQLError(error.message, {
      extensions: {
        code: error.code,
        ...(error.detail ? { detail: error.detail } : {}),
        http: { status: 200 },
      },
    });
  }
  return error instanceof GraphQLError
    ? error
    : new GraphQLError('Internal error', { extensions: { code: 'INTERNAL' } });
}

async function guarded<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (error) {
    throw toGraphQLError(error);
  }
}

function userOf(ctx: Context): User {
  if (!ctx.user) throw new NixSpaceError('UNAUTHENTICATED', 'Sign in first');
  return ctx.user;
}

interface GraphQLTypes {
  Context: Context;
  Objects: { Workspace: WorkspaceView; Step: StepView };
}

/** The schema builder, for the modules that define parts of the schema. */
export type GraphQLBuilder = PothosSchemaTypes.SchemaBuilder<
  PothosSchemaTypes.ExtendDefaultTypes<GraphQLTypes>
>;

export function buildSchema(workspaces: WorkspaceService, shares: ShareService) {
  const builder = new SchemaBuilder<GraphQLTypes>({});

  const ErrorInfo = builder
    .objectRef<{ code: string; message: string; step?: string }>('WorkspaceError')
    .implement({
      fields: (t) => ({
        code: t.exposeString('code'),
        message: t.exposeString('message'),
        step: t.string({ nullable: true, resolve: (e) => e.step ?? null }),
      }),
    });

  builder.objectType('Step', {
    fields: (t) => ({
      name: t.exposeString('name'),
      label: t.exposeString('label'),
      status: t.exposeString('status'),
      startedAt: t.exposeString('startedAt', { nullable: true }),
      finishedAt: t.exposeString('finishedAt', { nullable: true }),
      durationMs: t.exposeInt('durationMs', { nullable: true }),
      detail: t.exposeString('detail', { nullable: true }),
    }),
  });

  const Urls = builder.objectRef<WorkspaceView['urls']>('WorkspaceUrls').implement({
    fields: (t) => ({
      events: t.exposeString('events'),
      terminal: t.exposeString('terminal'),
      ide: t.exposeString('ide'),
    }),
  });

  const Ide = builder.objectRef<NonNullable<WorkspaceView['ide']>>('Ide').implement({
    description: "The workspace's VS Code (code-server), while the workspace runs.",
    fields: (t) => ({
      status: t.exposeString('status'),
      startedAt: t.exposeString('startedAt', { nullable: true }),
      restarts: t.exposeInt('restarts'),
      detail: t.exposeString('detail', { nullable: true }),
      url: t.exposeString('url'),
    }),
  });

  const Lifetime = builder.objectRef<WorkspaceView['lifetime']>('WorkspaceLifetime').implement({
    description: 'When the workspace is deleted unless its owner keeps it (keepEnvironment).',
    fields: (t) => ({
      expiresAt: t.exposeString('expiresAt', { nullable: true }),
      keptAt: t.exposeString('keptAt', { nullable: true }),
      warnFrom: t.exposeString('warnFrom', { nullable: true }),
      expiring: t.exposeBoolean('expiring'),
    }),
  });

  const Idle = builder.objectRef<WorkspaceView['idle']>('WorkspaceIdle').implement({
    description:
      'Whether the workspace is in use; an idle running one hibernates, and opening it resumes it.',
    fields: (t) => ({
      idleSince: t.exposeString('idleSince', { nullable: true }),
      hibernatesAt: t.exposeString('hibernatesAt', { nullable: true }),
      hibernatedAt: t.exposeString('hibernatedAt', { nullable: true }),
    }),
  });

  const Environment = environmentObject(builder);

  builder.objectType('Workspace', {
    description: 'A checkout of a repository at a commit, running in a sandbox.',
    fields: (t) => ({
      id: t.exposeID('id'),
      name: t.exposeString('name'),
      repoUrl: t.exposeString('repoUrl'),
      ref: t.exposeString('ref', { nullable: true }),
      parentId: t.exposeID('parentId', { nullable: true }),
      commit: t.exposeString('commit', { nullable: true }),
      branch: t.exposeString('branch', { nullable: true }),
      status: t.exposeString('status'),
      error: t.field({ type: ErrorInfo, nullable: true, resolve: (w) => w.error }),
      steps: t.field({ type: ['Step'], resolve: (w) => w.steps }),
      urls: t.field({ type: Urls, resolve: (w) => w.urls }),
      ide: t.field({ type: Ide, nullable: true, resolve: (w) => w.ide }),
      lifetime: t.field({ type: Lifetime, resolve: (w) => w.lifetime }),
      idle: t.field({ type: Idle, resolve: (w) => w.idle }),
      environment: t.field({ type: Environment, nullable: true, resolve: (w) => w.environment }),
      sandboxDriver: t.string({ nullable: true, resolve: (w) => w.sandbox?.driver ?? null }),
      isolated: t.boolean({ nullable: true, resolve: (w) => w.sandbox?.isolated ?? null }),
      createdAt: t.exposeString('createdAt'),
      updatedAt: t.exposeString('updatedAt'),
    }),
  });

  const Change = builder.objectRef<FactChange>('EnvironmentChange').implement({
    description: 'One fact an environment changed against its parent (toolchain, service, ...).',
    fields: (t) => ({
      kind: t.exposeString('kind'),
      name: t.exposeString('name'),
      change: t.exposeString('change'),
      from: t.exposeString('from', { nullable: true }),
      to: t.exposeString('to', { nullable: true }),
    }),
  });

  const Version = builder.objectRef<EnvironmentVersion>('EnvironmentVersion').implement({
    description: 'An environment a workspace ran with, at a commit, and its diff against the one before.',
    fields: (t) => ({
      id: t.exposeID('id'),
      environmentId: t.exposeID('environmentId'),
      parentEnvironmentId: t.exposeID('parentEnvironmentId', { nullable: true }),
      hash: t.exposeString('hash'),
      provider: t.exposeString('provider'),
      reproducible: t.exposeBoolean('reproducible'),
      commit: t.exposeString('commit'),
      ref: t.exposeString('ref', { nullable: true }),
      message: t.exposeString('message'),
      summary: t.string({ resolve: (v) => v.changes.summary }),
      changes: t.field({ type: [Change], resolve: (v) => v.changes.changes }),
      createdAt: t.exposeString('createdAt'),
    }),
  });

  const ShareLink = builder.objectRef<ShareLink>('ShareLink').implement({
    description: 'A link that opens one workspace in a role, until it expires or is revoked.',
    fields: (t) => ({
      id: t.exposeID('id'),
      workspaceId: t.exposeID('workspaceId'),
      role: t.exposeString('role'),
      anonymous: t.exposeBoolean('anonymous'),
      expiresAt: t.exposeString('expiresAt', { nullable: true }),
      createdAt: t.exposeString('createdAt'),
      lastUsedAt: t.exposeString('lastUsedAt', { nullable: true }),
      activeUsers: t.exposeInt('activeUsers'),
    }),
  });
  const CreatedShare = builder.objectRef<CreatedShare>('Share').implement({
    description: 'A new share link: its token is shown this once (only its hash is kept).',
    fields: (t) => ({
      id: t.exposeID('id'),
      workspaceId: t.exposeID('workspaceId'),
      role: t.exposeString('role'),
      anonymous: t.exposeBoolean('anonymous'),
      expiresAt: t.exposeString('expiresAt', { nullable: true }),
      token: t.exposeString('token'),
      url: t.exposeString('url'),
      path: t.exposeString('path'),
    }),
  });

  const Diff = builder
    .objectRef<SpecDiff & { from: { id: string; hash: string }; to: { id: string; hash: string } }>(
      'EnvironmentDiff',
    )
    .implement({
      description: 'The facts (toolchains, services, packages, ...) one environment changed against another.',
      fields: (t) => ({
        fromId: t.id({ resolve: (d) => d.from.id }),
        toId: t.id({ resolve: (d) => d.to.id }),
        fromHash: t.string({ resolve: (d) => d.from.hash }),
        toHash: t.string({ resolve: (d) => d.to.hash }),
        summary: t.exposeString('summary'),
        changes: t.field({ type: [Change], resolve: (d) => d.changes }),
      }),
    });

  const Lineage = builder
    .objectRef<{ parent: WorkspaceView | null; children: WorkspaceView[] }>('WorkspaceLineage')
    .implement({
      fields: (t) => ({
        parent: t.field({ type: 'Workspace', nullable: true, resolve: (l) => l.parent }),
        children: t.field({ type: ['Workspace'], resolve: (l) => l.children }),
      }),
    });

  builder.queryType({
    fields: (t) => ({
      getEnvironment: t.field({
        type: 'Workspace',
        args: { id: t.arg.id({ required: true }) },
        resolve: (_root, args, ctx) => guarded(() => workspaces.get(userOf(ctx), String(args.id))),
      }),
      environments: t.field({
        type: ['Workspace'],
        resolve: (_root, _args, ctx) => guarded(() => workspaces.list(userOf(ctx))),
      }),
      shareLinks: t.field({
        type: [ShareLink],
        description: 'The share links of a workspace that still open it.',
        args: { id: t.arg.id({ required: true }) },
        resolve: (_root, args, ctx) => guarded(() => shares.list(userOf(ctx), String(args.id))),
      }),
      environmentDiff: t.field({
        type: Diff,
        description: 'What changed from one environment to another (any two your workspaces ran with).',
        args: { from: t.arg.id({ required: true }), to: t.arg.id({ required: true }) },
        resolve: (_root, args, ctx) =>
          guarded(() => workspaces.diffEnvironments(userOf(ctx), String(args.from), String(args.to))),
      }),
      environmentLineage: t.field({
        type: Lineage,
        description: 'The workspace this one was branched from, and the branches made from it.',
        args: { id: t.arg.id({ required: true }) },
        resolve: (_root, args, ctx) => guarded(() => workspaces.lineage(userOf(ctx), String(args.id))),
      }),
      environmentVersions: t.field({
        type: [Version],
        args: { id: t.arg.id({ required: true }) },
        resolve: (_root, args, ctx) => guarded(() => workspaces.versions(userOf(ctx), String(args.id))),
      }),
    }),
  });

  const NameVersion = builder.inputType('NameVersionInput', {
    fields: (t) => ({
      name: t.string({ required: true }),
      version: t.string({ required: true }),
    }),
  });
  const ChangesInput = builder.inputType('EnvironmentChangesInput', {
    description: "What a branch's environment changes against what the repository asks for.",
    fields: (t) => ({
      toolchains: t.field({ type: [NameVersion] }),
      services: t.field({ type: [NameVersion] }),
      packages: t.stringList(),
    }),
  });
  const versions = (list: readonly { name: string; version: string }[] | null | undefined) =>
    Object.fromEntries((list ?? []).map((entry) => [entry.name, entry.version]));

  builder.mutationType({
    fields: (t) => ({
      createEnvironment: t.field({
        type: 'Workspace',
        args: {
          repoUrl: t.arg.string({ required: true }),
          ref: t.arg.string(),
          sandbox: t.arg.string({
            description: 'The sandbox driver it runs on; the server default when absent.',
          }),
        },
        resolve: (_root, args, ctx) =>
          guarded(() =>
            workspaces.create(userOf(ctx), { repoUrl: args.repoUrl, ref: args.ref, sandbox: args.sandbox }),
          ),
      }),
      startEnvironment: t.field({
        type: 'Workspace',
        args: { id: t.arg.id({ required: true }) },
        resolve: (_root, args, ctx) => guarded(() => workspaces.start(userOf(ctx), String(args.id))),
      }),
      stopEnvironment: t.field({
        type: 'Workspace',
        args: { id: t.arg.id({ required: true }) },
        resolve: (_root, args, ctx) => guarded(() => workspaces.stop(userOf(ctx), String(args.id))),
      }),
      keepEnvironment: t.field({
        type: 'Workspace',
        description: 'Keeps the workspace past its lifetime: it is no longer deleted at its deadline.',
        args: { id: t.arg.id({ required: true }) },
        resolve: (_root, args, ctx) => guarded(() => workspaces.keep(userOf(ctx), String(args.id))),
      }),
      switchEnvironment: t.field({
        type: 'Workspace',
        description:
          'Moves a running workspace to another branch, tag or commit in place. uncommitted: refuse (default), stash or carry; jobs (running in it): refuse (default) or cancel.',
        args: {
          id: t.arg.id({ required: true }),
          ref: t.arg.string({ required: true }),
          uncommitted: t.arg.string(),
          jobs: t.arg.string(),
        },
        resolve: (_root, args, ctx) =>
          guarded(async () => {
            const uncommitted = args.uncommitted ?? 'refuse';
            if (uncommitted !== 'refuse' && uncommitted !== 'stash' && uncommitted !== 'carry') {
              throw new NixSpaceError('BAD_REQUEST', 'uncommitted must be "refuse", "stash" or "carry"');
            }
            const jobs = args.jobs ?? 'refuse';
            if (jobs !== 'refuse' && jobs !== 'cancel') {
              throw new NixSpaceError('BAD_REQUEST', 'jobs must be "refuse" or "cancel"');
            }
            const result = await workspaces.switchRef(userOf(ctx), String(args.id), {
              ref: args.ref,
              uncommitted,
              jobs,
            });
            return result.workspace;
          }),
      }),
      branchEnvironment: t.field({
        type: 'Workspace',
        description:
          "Branches a workspace: a new one (its id is the new environment's) whose parent is this one, from its files, at ref; with changes, its environment also differs (toolchain or service versions, packages) while the parent's stays as it is.",
        args: {
          id: t.arg.id({ required: true }),
          ref: t.arg.string({ required: true }),
          changes: t.arg({ type: ChangesInput }),
        },
        resolve: (_root, args, ctx) =>
          guarded(() =>
            workspaces.branch(userOf(ctx), String(args.id), {
              ref: args.ref,
              ...(args.changes
                ? {
                    changes: {
                      toolchains: versions(args.changes.toolchains),
                      services: versions(args.changes.services),
                      packages: args.changes.packages ?? [],
                    },
                  }
                : {}),
            }),
          ),
      }),
      rollbackEnvironment: t.field({
        type: 'Workspace',
        description: 'Returns a running workspace to an earlier environment version (its commit and build).',
        args: { id: t.arg.id({ required: true }), versionId: t.arg.id({ required: true }) },
        resolve: (_root, args, ctx) =>
          guarded(async () => {
            const result = await workspaces.rollback(userOf(ctx), String(args.id), {
              versionId: String(args.versionId),
            });
            return result.workspace;
          }),
      }),
      shareEnvironment: t.field({
        type: CreatedShare,
        description:
          'Shares a workspace by link. role: viewer (default; read-only IDE and terminal output) or editor; expiresInHours: null for none; anonymous: opens without an account (default true).',
        args: {
          id: t.arg.id({ required: true }),
          role: t.arg.string(),
          expiresInHours: t.arg.float(),
          anonymous: t.arg.boolean(),
        },
        resolve: (_root, args, ctx) =>
          guarded(async () => {
            const role = args.role ?? 'viewer';
            if (role !== 'viewer' && role !== 'editor') {
              throw new NixSpaceError('BAD_REQUEST', 'role must be "viewer" or "editor"');
            }
            return shares.create(userOf(ctx), String(args.id), {
              role,
              expiresInHours: args.expiresInHours,
              ...(args.anonymous === null || args.anonymous === undefined
                ? {}
                : { anonymous: args.anonymous }),
            });
          }),
      }),
      revokeShare: t.field({
        type: ShareLink,
        description: 'Revokes a share link; connections it opened close within seconds.',
        args: { id: t.arg.id({ required: true }) },
        resolve: (_root, args, ctx) => guarded(() => shares.revoke(userOf(ctx), String(args.id))),
      }),
      deleteEnvironment: t.boolean({
        args: { id: t.arg.id({ required: true }) },
        resolve: (_root, args, ctx) =>
          guarded(async () => {
            await workspaces.delete(userOf(ctx), String(args.id));
            return true;
          }),
      }),
    }),
  });

  builder.subscriptionType({
    fields: (t) => ({
      environmentProgress: t.field({
        type: 'Workspace',
        description: 'The workspace now, then again on every change, until it is running, failed or deleted.',
        args: { id: t.arg.id({ required: true }) },
        subscribe: (_root, args, ctx) =>
          new Repeater<WorkspaceView>(async (push, stop) => {
            let unsubscribe: (() => void) | undefined;
            try {
              unsubscribe = await workspaces.subscribe(userOf(ctx), String(args.id), (event) => {
                if (event.type !== 'workspace') return;
                void push(event.workspace);
                if (
                  ['running', 'failed', 'deleted', 'stopped', 'hibernated'].includes(event.workspace.status)
                )
                  stop();
              });
            } catch (error) {
              stop(toGraphQLError(error));
              return;
            }
            await stop;
            unsubscribe();
          }),
        resolve: (workspace) => workspace,
      }),
    }),
  });

  return builder.toSchema();
}

export function registerGraphQL(app: FastifyInstance, workspaces: WorkspaceService, shares: ShareService) {
  const yoga = createYoga<Context>({
    schema: buildSchema(workspaces, shares),
    graphqlEndpoint: '/graphql',
    logging: false,
    graphiql: true,
    maskedErrors: true,
  });

  app.route({
    url: '/graphql',
    method: ['GET', 'POST', 'OPTIONS'],
    handler: async (req, reply) => {
      const response = await yoga.handleNodeRequestAndResponse(req, reply, { user: req.user, req, reply });
      for (const [key, value] of response.headers) reply.header(key, value);
      reply.status(response.status);
      return reply.send(response.body);
    },
  });
}
