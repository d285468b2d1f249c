// REST for workspaces, and the one-way WebSocket that streams a workspace's progress.

import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { NixSpaceError, toErrorBody } from '../errors.js';
import type { WorkspacePresence } from '../services/access/workspace-presence.js';
import type { SandboxDriverList } from '../wire/workspaces.js';
import { requireUser } from './session.js';
import { type AccessDeps, joinWorkspace, resolveWorkspaceAccess } from './workspace-access.js';
import { closeWithError, rejectForeignOrigin } from './ws-guard.js';

/** The create form's words for each driver. */
const driverDescriptions: Record<string, string> = {
  bubblewrap: 'Linux namespaces and seccomp: starts fastest',
  gvisor: "gVisor's user-space kernel between the workspace and the host: stronger, slower on file metadata",
  microvm: 'a virtual machine of its own: the strongest boundary, seconds to boot',
  process: 'no isolation: programs run on the host',
};

function describeDriver(name: string): string {
  return driverDescriptions[name] ?? name;
}

/** A sandbox driver's name; whether this server has it is the service's to say. */
const sandboxName = z.string({ error: 'sandbox must be the name of a sandbox driver' }).max(64).nullish();

const createBody = z.object({
  repoUrl: z.string({ error: 'repoUrl is required' }),
  ref: z.string().nullish(),
  sandbox: sandboxName,
});

const switchBody = z.object({
  ref: z.string({ error: 'ref is required: the branch, tag or commit to switch to' }),
  uncommitted: z
    .enum(['refuse', 'stash', 'carry'], { error: 'uncommitted must be "refuse", "stash" or "carry"' })
    .nullish(),
  jobs: z.enum(['refuse', 'cancel'], { error: 'jobs must be "refuse" or "cancel"' }).nullish(),
});

const branchBody = z.object({
  ref: z.string({ error: 'ref must be a branch, tag or commit name' }).nullish(),
  /** Toolchain and service versions, packages: checked by the service, which names each problem. */
  changes: z.unknown().optional(),
  /** Another driver than its source's. */
  sandbox: sandboxName,
});

const rollbackBody = z.object({
  versionId: z.string({ error: 'versionId is required: the environment version to return to' }),
  uncommitted: switchBody.shape.uncommitted,
  jobs: switchBody.shape.jobs,
});

export function registerWorkspaceRoutes(
  app: FastifyInstance,
  deps: AccessDeps & { presence: WorkspacePresence; origin: () => string; startedAt: Date },
) {
  const { workspaces, origin } = deps;
  const hello = JSON.stringify({ type: 'hello', server: { startedAt: deps.startedAt.toISOString() } });
  app.get('/api/workspaces', async (request) => ({
    workspaces: await workspaces.list(requireUser(request)),
  }));

  // The isolations a new workspace may ask for (`sandbox` of the create body).
  app.get('/api/sandboxes', async (request): Promise<SandboxDriverList> => {
    requireUser(request);
    const drivers = workspaces.sandboxDrivers;
    return {
      default: drivers.defaultDriver.name,
      drivers: drivers.all.map((driver) => ({
        name: driver.name,
        isolated: driver.capabilities.isolation,
        description: describeDriver(driver.name),
      })),
    };
  });

  app.post('/api/workspaces', async (request, reply) => {
    const user = requireUser(request);
    const parsed = createBody.safeParse(request.body ?? {});
    if (!parsed.success) {
      throw new NixSpaceError('BAD_REQUEST', parsed.error.issues.map((i) => i.message).join('; '));
    }
    return reply.status(201).send(await workspaces.create(user, parsed.data));
  });

  // The owner, and whoever holds a share link's token for this workspace.
  app.get<{ Params: { id: string } }>('/api/workspaces/:id', async (request) => {
    const access = await resolveWorkspaceAccess(request, request.params.id, deps);
    return workspaces.get(access.actor, request.params.id);
  });

  app.post<{ Params: { id: string } }>('/api/workspaces/:id/start', async (request) =>
    workspaces.start(requireUser(request), request.params.id),
  );

  app.post<{ Params: { id: string } }>('/api/workspaces/:id/stop', async (request) =>
    workspaces.stop(requireUser(request), request.params.id),
  );

  // Opening a hibernated workspace starts it again, for whoever may open it (a share link's holder too).
  app.post<{ Params: { id: string } }>('/api/workspaces/:id/resume', async (request) => {
    const access = await resolveWorkspaceAccess(request, request.params.id, deps);
    await workspaces.resume(access.actor, request.params.id);
    return workspaces.get(access.actor, request.params.id);
  });

  app.post<{ Params: { id: string } }>('/api/workspaces/:id/keep', async (request) =>
    workspaces.keep(requireUser(request), request.params.id),
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

  app.get<{ Querystring: { from?: string; to?: string } }>('/api/environments/diff', async (request) => {
    const user = requireUser(request);
    const { from, to } = request.query;
    if (!from || !to) {
      throw new NixSpaceError('BAD_REQUEST', 'from and to are required: the ids of the two environments');
    }
    return workspaces.diffEnvironments(user, from, to);
  });

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
      const cleanups: (() => void)[] = [];
      socket.on('close', () => {
        for (const cleanup of cleanups.splice(0)) cleanup();
      });
      try {
        const id = request.params.id;
        const access = await resolveWorkspaceAccess(request, id, deps);
        // Following a workspace is being in it: it counts towards its limit of people.
        cleanups.push(
          joinWorkspace(deps.presence, access, 'events', (reason) => closeWithError(socket, reason)),
        );
        socket.send(hello);
        const unsubscribe = await workspaces.subscribe(access.actor, id, (event) => {
          if (socket.readyState === socket.OPEN) socket.send(JSON.stringify(event));
        });
        cleanups.push(unsubscribe);
        if (socket.readyState !== socket.OPEN) for (const cleanup of cleanups.splice(0)) cleanup();
      } catch (error) {
        closeWithError(socket, toErrorBody(error));
      }
    },
  );
}
