// Who is asking: the session cookie is read once per request and the user put on the request.

import type { FastifyInstance, FastifyRequest } from 'fastify';
import { NixSpaceError } from '../errors.js';
import type { AccessService, User } from '../services/access/access-service.js';

export const SESSION_COOKIE = 'nixspace_session';

declare module 'fastify' {
  interface FastifyRequest {
    user: User | undefined;
    /** The id of the session `user` is signed in with (workspace tokens it asks for carry it). */
    sessionId: string | undefined;
  }
}

/** Routes that answer without a session. */
const PUBLIC_PATHS = new Set(['/auth/link', '/api/health']);

export function installSessions(app: FastifyInstance, access: AccessService): void {
  app.decorateRequest('user', undefined);
  app.decorateRequest('sessionId', undefined);
  app.addHook('onRequest', async (request) => {
    const path = request.url.split('?')[0] ?? '';
    if (PUBLIC_PATHS.has(path)) return;
    if (!path.startsWith('/api/') && path !== '/graphql') return;
    const signedIn = await access.authenticateSession(request.cookies[SESSION_COOKIE]);
    request.user = signedIn?.user;
    request.sessionId = signedIn?.sessionId;
  });
}

/** The signed-in user, or an UNAUTHENTICATED error for the client to act on. */
export function requireUser(request: FastifyRequest): User {
  if (!request.user) {
    throw new NixSpaceError(
      'UNAUTHENTICATED',
      'Sign in first: open the sign-in link printed by `nixspace serve`',
    );
  }
  return request.user;
}
