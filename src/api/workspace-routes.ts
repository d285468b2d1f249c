// REST for workspaces, and the one-way WebSocket that streams a workspace's progress.

import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { NixSpaceError, toErrorBody } from '../errors.js';
import type { WorkspaceService } from '../services/workspaces/workspace-service.js';
import { requireUser } from './session.js';
import { closeWithError, rejectForeignOrigin } from './ws-guard.js';

const createBody = z.object({
  repoUrl: z.string({ error: 'repoUrl is required' }),
  ref: z.string().nullish(),
});

const switchBody = z.object({
  ref: z.string({ error: 'ref is required: the branch, tag or commit to switch to' }),
  uncommitted: z
    .enum(['refuse', 'stash', 'carry'], { error: 'uncommitted must be "refuse", "stash" or "carry"' })
    .nullish(),
});

const branchBody = z.object({
  ref: z.string({ error: 'ref must be a branch, tag or commit name' }).nullish(),
});

const rollbackBody = z.object({
  versionId: z.string({ error: 'versionId is required: the environment version to return to' }),
  uncommitted: switchBody.shape.uncommitted,
});

export function registerWorkspaceRoutes(
  app: FastifyInstance,
  workspaces: WorkspaceService,
  origin: () => string,
) {
  app.get('/api/workspaces', async (request) => ({
    workspaces: await workspaces.list(requireUser(request)),
  }));

  app.post('/api/workspaces', async (request, reply) => {
    const user = requireUser(request);
    const parsed = createBody.safeParse(request.body ?? {});
    if (!parsed.success) {
      throw new NixSpaceError('BAD_REQUEST', parsed.error.issues.map((i) => i.message).join('; '));
    }
    return reply.status(201).send(await workspaces.create(user, parsed.data));
  });

  app.get<{ Params: { id: string } }>('/api/workspaces/:id', async (request) =>
    workspaces.get(requireUser(request), request.params.id),
  );

  app.post<{ Params: { id: string } }>('/api/workspaces/:id/start', async (request) =>
    workspaces.start(requireUser(request), request.params.id),
  );

  app.post<{ Params: { id: string } }>('/api/workspaces/:id/stop', async (request) =>
    workspaces.stop(requireUser(request), request.params.id),
  );

  app.post<{ Params: { id: string } }>('/api/workspaces/:id/switch', async (request) => {
    const user = requireUser(request);
    const parsed = switchBody.safeParse(request.body ?? {});
    if (!parsed.success) {
      throw new NixSpaceError('BAD_REQUEST', parsed.error.issues.map((i) => i.message).join('; '));
    }
    // The workspace, as the other lifecycle routes answer, and what the checkout did.
    const { workspace, switched } = await workspaces.switchRef(user, request.params.id, parsed.data);
    return { ...workspace, switched };
  });

  app.post<{ Params: { id: string } }>('/api/workspaces/:id/branch', async (request, reply) => {
    const user = requireUser(request);
    const parsed = branchBody.safeParse(request.body ?? {});
    if (!parsed.success) {
      throw new NixSpaceError('BAD_REQUEST', parsed.error.issues.map((i) => i.message).join('; '));
    }
    return reply.status(201).send(await workspaces.branch(user, request.params.id, parsed.data));
  });

  app.get<{ Params: { id: string } }>('/api/workspaces/:id/lineage', async (request) =>
    workspaces.lineage(requireUser(request), request.params.id),
  );

  app.get<{ Params: { id: string } }>('/api/workspaces/:id/versions', async (request) => ({
    versions: await workspaces.versions(requireUser(request), request.params.id),
  }));

  app.post<{ Params: { id: string } }>('/api/workspaces/:id/rollback', async (request) => {
    const user = requireUser(request);
    const parsed = rollbackBody.safeParse(request.body ?? {});
    if (!parsed.success) {
      throw new NixSpaceError('BAD_REQUEST', parsed.error.issues.map((i) => i.message).join('; '));
    }
    const { workspace, switched } = await workspaces.rollback(user, request.params.id, parsed.data);
    return { ...workspace, switched };
  });

  app.get<{ Params: { id: string } }>('/api/workspaces/:id/refs', async (request) =>
    workspaces.refs(requireUser(request), request.params.id),
  );

  app.get<{ Params: { id: string } }>('/api/workspaces/:id/stashes', async (request) => ({
    stashes: await workspaces.stashes(requireUser(request), request.params.id),
  }));

  app.delete<{ Params: { id: string } }>('/api/workspaces/:id', async (request, reply) => {
    await workspaces.delete(requireUser(request), request.params.id);
    return reply.status(204).send();
  });

  app.get<{ Params: { id: string } }>(
    '/api/workspaces/:id/events',
    { websocket: true },
    async (socket, request) => {
      if (rejectForeignOrigin(socket, request, origin())) return;
      if (!request.user) {
        return closeWithError(socket, {
          code: 'UNAUTHENTICATED',
          message: 'Sign in first to follow a workspace',
        });
      }
      let unsubscribe: (() => void) | undefined;
      socket.on('close', () => unsubscribe?.());
      try {
        unsubscribe = await workspaces.subscribe(request.user, request.params.id, (event) => {
          if (socket.readyState === socket.OPEN) socket.send(JSON.stringify(event));
        });
        if (socket.readyState !== socket.OPEN) unsubscribe();
      } catch (error) {
        closeWithError(socket, toErrorBody(error));
      }
    },
  );
}
