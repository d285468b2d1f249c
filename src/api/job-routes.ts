// REST for jobs, the SSH hosts they can target, and the jobs a workspace's repository offers.

import type { FastifyInstance } from 'fastify';
import type { JobService } from '../services/jobs/job-service.js';
import type { SshHostService } from '../services/jobs/ssh-host-service.js';
import type { WorkspaceService } from '../services/workspaces/workspace-service.js';
import { requireUser } from './session.js';

interface ListQuery {
  limit?: string;
  workspace?: string;
  status?: string;
}

export function registerJobRoutes(
  app: FastifyInstance,
  deps: { jobs: JobService; sshHosts: SshHostService; workspaces: WorkspaceService },
) {
  const { jobs, sshHosts, workspaces } = deps;

  app.get<{ Querystring: ListQuery }>('/api/jobs', async (request) => ({
    jobs: await jobs.list(requireUser(request), request.query),
  }));

  app.post('/api/jobs', async (request, reply) => {
    const body = (request.body ?? {}) as Record<string, unknown>;
    return reply.status(201).send(await jobs.run(requireUser(request), body));
  });

  app.post('/api/jobs/cancel', async (request) => {
    const body = (request.body ?? {}) as { jobId?: unknown };
    return jobs.cancel(requireUser(request), body.jobId);
  });

  app.get<{ Params: { id: string }; Querystring: { from?: string; maxBytes?: string } }>(
    '/api/jobs/:id',
    async (request) => jobs.get(requireUser(request), request.params.id, request.query),
  );

  app.get<{ Params: { id: string } }>('/api/workspaces/:id/suggested-jobs', async (request) => ({
    jobs: await workspaces.suggestedJobs(requireUser(request), request.params.id),
  }));

  app.get('/api/ssh-hosts', async (request) => ({ hosts: await sshHosts.list(requireUser(request)) }));

  app.post('/api/ssh-hosts', async (request, reply) =>
    reply.status(201).send(await sshHosts.add(requireUser(request), request.body)),
  );

  app.delete<{ Params: { id: string } }>('/api/ssh-hosts/:id', async (request, reply) => {
    await sshHosts.remove(requireUser(request), request.params.id);
    return reply.status(204).send();
  });
}
