// One HTTP server for everything: REST, GraphQL, WebSockets and the built UI.

import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import fastifyCookie from '@fastify/cookie';
import fastifyCors from '@fastify/cors';
import fastifyStatic from '@fastify/static';
import fastifyWebsocket from '@fastify/websocket';
import Fastify, { type FastifyBaseLogger, type FastifyInstance, LogController } from 'fastify';
import type { Logger } from 'pino';
import type { AccessService } from '../services/access/access-service.js';
import type { ShareService } from '../services/access/share-service.js';
import type { WorkspacePresence } from '../services/access/workspace-presence.js';
import type { WorkspaceTokens } from '../services/access/workspace-tokens.js';
import type { JobService } from '../services/jobs/job-service.js';
import type { SshHostService } from '../services/jobs/ssh-host-service.js';
import type { WorkspaceService } from '../services/workspaces/workspace-service.js';
import { registerAuthRoutes } from './auth-routes.js';
import { installErrorHandling, notFoundBody } from './errors.js';
import { registerGraphQL } from './graphql.js';
import { registerIdeRoutes } from './ide-routes.js';
import { registerJobRoutes } from './job-routes.js';
import { installSessions } from './session.js';
import { registerShareRoutes } from './share-routes.js';
import { registerTerminalRoutes } from './terminal-routes.js';
import { registerWorkspaceRoutes } from './workspace-routes.js';

export interface ServerDeps {
  logger: Logger;
  access: AccessService;
  workspaces: WorkspaceService;
  tokens: WorkspaceTokens;
  shares: ShareService;
  presence: WorkspacePresence;
  jobs: JobService;
  sshHosts: SshHostService;
  /** When this server process started: pages that meet another start time know it restarted. */
  startedAt: Date;
  /** The UI's origin: the only origin allowed by CORS and on WebSockets (known once listening). */
  origin: () => string;
  /** Directory of the built UI; defaults to web/dist of this package. */
  webDir?: string;
}

const defaultWebDir = fileURLToPath(new URL('../../web/dist', import.meta.url));

export async function buildServer(deps: ServerDeps): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: deps.logger as FastifyBaseLogger,
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: 1024 * 1024,
    forceCloseConnections: true,
  });
  installErrorHandling(app);
  await app.register(fastifyCookie);
  await app.register(fastifyCors, {
    origin: (origin, callback) => callback(null, origin === deps.origin()),
    credentials: true,
  });
  await app.register(fastifyWebsocket, {
    options: { maxPayload: 1024 * 1024 },
    // Open sockets learn that the server is going away (1001), not that it refused them: pages
    // reconnect by themselves once it is back.
    preClose(done) {
      for (const client of app.websocketServer.clients) client.close(1001, 'NixSpace is restarting');
      app.websocketServer.close(() => done());
    },
  });
  installSessions(app, deps.access);

  const secureCookies = deps.origin().startsWith('https:');
  registerAuthRoutes(app, deps.access, {
    secureCookies,
    onSignOut: (sessionId) =>
      deps.presence.evictSession(sessionId, { code: 'UNAUTHENTICATED', message: 'You signed out' }),
  });
  registerWorkspaceRoutes(app, deps);
  registerTerminalRoutes(app, deps);
  registerShareRoutes(app, deps.shares, { secureCookies });
  registerJobRoutes(app, deps);
  registerGraphQL(app, deps.workspaces, deps.shares);
  await registerIdeRoutes(app, { ...deps, secureCookies });

  const webDir = deps.webDir ?? defaultWebDir;
  const hasUi = existsSync(`${webDir}/index.html`);
  if (hasUi) {
    await app.register(fastifyStatic, { root: webDir, wildcard: false, index: ['index.html'] });
  }
  app.setNotFoundHandler((request, reply) => {
    const path = request.url.split('?')[0] ?? '';
    const isApi =
      path.startsWith('/api/') ||
      path === '/graphql' ||
      path.startsWith('/auth/') ||
      path.startsWith('/ide/');
    if (isApi || request.method !== 'GET')
      return reply.status(404).send(notFoundBody(request.method, request.url));
    // The UI routes on the client: every other page is the app shell.
    if (hasUi) return reply.type('text/html').sendFile('index.html');
    return reply
      .type('text/plain')
      .send(
        'The NixSpace UI is not built. Run `npm run build` (or `npm install`, which builds it) and restart.',
      );
  });
  return app;
}
