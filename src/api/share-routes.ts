// Share links over REST: the owner creates, lists and revokes them; anyone holding one visits it,
// which sets the workspace token's cookies for the workspace's API and IDE paths.

import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { NixSpaceError } from '../errors.js';
import type { ShareService } from '../services/access/share-service.js';
import { setIdeCookie } from './ide-cookie.js';
import { requireUser } from './session.js';
import { setWorkspaceCookie } from './workspace-access.js';

const createBody = z.object({
  role: z.enum(['viewer', 'editor'], { error: 'role must be "viewer" or "editor"' }).optional(),
  expiresInHours: z
    .number({ error: 'expiresInHours must be a number of hours, or null for no expiry' })
    .nullish(),
  anonymous: z.boolean({ error: 'anonymous must be true or false' }).optional(),
});

const visitBody = z.object({
  token: z.string({ error: 'token is required: the part of the share link after /s/' }).min(1, {
    error: 'token is required: the part of the share link after /s/',
  }),
  previous: z.string().optional(),
});

function parse<T>(schema: z.ZodType<T>, body: unknown): T {
  const parsed = schema.safeParse(body ?? {});
  if (!parsed.success) {
    throw new NixSpaceError('BAD_REQUEST', parsed.error.issues.map((i) => i.message).join('; '));
  }
  return parsed.data;
}

export function registerShareRoutes(
  app: FastifyInstance,
  shares: ShareService,
  opts: { secureCookies: boolean },
) {
  app.post<{ Params: { id: string } }>('/api/workspaces/:id/shares', async (request, reply) => {
    const user = requireUser(request);
    const input = parse(createBody, request.body);
    return reply.status(201).send(await shares.create(user, request.params.id, input));
  });

  app.get<{ Params: { id: string } }>('/api/workspaces/:id/shares', async (request) => ({
    shares: await shares.list(requireUser(request), request.params.id),
  }));

  app.delete<{ Params: { id: string } }>('/api/shares/:id', async (request) =>
    shares.revoke(requireUser(request), request.params.id),
  );

  // No session needed: the token is the capability (a link may still ask for a sign-in).
  app.post('/api/shares/visit', async (request, reply) => {
    const input = parse(visitBody, request.body);
    const visit = await shares.visit(input.token, { user: request.user, previous: input.previous });
    const id = visit.workspace.id;
    setWorkspaceCookie(reply, id, visit.token, visit.expiresAt, opts.secureCookies);
    setIdeCookie(reply, id, visit.token, visit.expiresAt, opts.secureCookies);
    return {
      token: visit.token,
      expiresAt: visit.expiresAt.toISOString(),
      role: visit.role,
      link: visit.link,
      workspace: visit.workspace,
    };
  });
}
