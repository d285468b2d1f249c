// Sign-in through one-time links, sign-out, and who am I.

import type { FastifyInstance } from 'fastify';
import type { AccessService } from '../services/access/access-service.js';
import { requireUser, SESSION_COOKIE } from './session.js';

export function registerAuthRoutes(
  app: FastifyInstance,
  access: AccessService,
  opts: { secureCookies: boolean; onSignOut?: (sessionId: string) => void },
) {
  app.get<{ Querystring: { token?: string } }>('/auth/link', async (request, reply) => {
    const token = request.query.token;
    try {
      if (!token) throw new Error('missing token');
      const session = await access.redeemLoginLink(token);
      reply.setCookie(SESSION_COOKIE, session.sessionToken, {
        path: '/',
        httpOnly: true,
        sameSite: 'lax',
        secure: opts.secureCookies,
        expires: session.expiresAt,
      });
      return reply.redirect('/', 303);
    } catch {
      return reply.redirect('/?signin=invalid', 303);
    }
  });

  app.get('/api/me', async (request) => ({ user: requireUser(request) }));

  app.post('/api/auth/logout', async (request, reply) => {
    const token = request.cookies[SESSION_COOKIE];
    const sessionId = token ? await access.signOut(token) : undefined;
    // What the session opened (terminals, IDEs, progress streams, by cookie or token) closes now.
    if (sessionId) opts.onSignOut?.(sessionId);
    reply.clearCookie(SESSION_COOKIE, { path: '/' });
    return reply.status(204).send();
  });

  app.get('/api/health', async () => ({ ok: true }));
}
