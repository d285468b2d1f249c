// The IDE of each workspace, reverse-proxied at /ide/<id>/ (HTTP and WebSocket) to the
// code-server socket inside its sandbox. code-server serves everything with relative URLs, so
// stripping the prefix keeps its assets, webviews and service worker working under it.
//
// Access: a short-lived signed workspace token (cookie scoped to the IDE path, or `?token=`
// once), else the session cookie and an ownership check, which mints the token cookie. A token
// from a share link works while its link stands; a viewer's token opens nothing here but the
// read-only IDE.

import fastifyReplyFrom from '@fastify/reply-from';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { decodeJwt } from 'jose';
import { NixSpaceError } from '../errors.js';
import type { AccessService } from '../services/access/access-service.js';
import type { ShareService } from '../services/access/share-service.js';
import type { WorkspacePresence } from '../services/access/workspace-presence.js';
import type { WorkspaceTokens } from '../services/access/workspace-tokens.js';
import { CODE_SERVER_COOKIE } from '../services/ide/code-server-runner.js';
import type { WorkspaceService } from '../services/workspaces/workspace-service.js';
import { IDE_COOKIE, setIdeCookie } from './ide-cookie.js';
import { SESSION_COOKIE } from './session.js';
import { relayUpgrade, type UpgradeRelay } from './upgrade-relay.js';
import {
  joinWorkspace,
  ownerAccess,
  resolveWorkspaceAccess,
  setWorkspaceCookie,
  tokenAccess,
  WORKSPACE_COOKIE,
  type WorkspaceAccess,
} from './workspace-access.js';

interface IdeDeps {
  access: AccessService;
  workspaces: WorkspaceService;
  tokens: WorkspaceTokens;
  shares: ShareService;
  presence: WorkspacePresence;
  origin: () => string;
  secureCookies: boolean;
}

type IdeRequest = FastifyRequest<{ Params: { id: string } }>;

declare module 'fastify' {
  interface FastifyRequest {
    workspaceAccess: WorkspaceAccess | undefined;
  }
}

export async function registerIdeRoutes(app: FastifyInstance, deps: IdeDeps): Promise<void> {
  const { workspaces, tokens } = deps;
  const prefix = (id: string) => `/ide/${id}`;
  const setTokenCookie = (reply: FastifyReply, id: string, token: string, expiresAt: Date) =>
    setIdeCookie(reply, id, token, expiresAt, deps.secureCookies);
  app.decorateRequest('workspaceAccess', undefined);

  // The UI asks for a token (and the cookies that carry it) before showing the IDE, and again
  // before it expires. The owner gets one by session; a share link's holder renews theirs while
  // the link stands, in the same role.
  app.post<{ Params: { id: string } }>('/api/workspaces/:id/ide/token', async (request, reply) => {
    const id = request.params.id;
    const access = await resolveWorkspaceAccess(request, id, deps);
    const workspace = await workspaces.get(access.actor, id);
    const { token, expiresAt } = await tokens.issue({
      holder: access.holder,
      workspaceId: workspace.id,
      role: access.role,
      ...(access.linkId ? { linkId: access.linkId } : { sessionId: access.sessionId }),
    });
    setTokenCookie(reply, workspace.id, token, expiresAt);
    if (access.role !== 'owner')
      setWorkspaceCookie(reply, workspace.id, token, expiresAt, deps.secureCookies);
    return { token, expiresAt: expiresAt.toISOString(), url: workspace.urls.ide, role: access.role };
  });

  /** Who may reach this workspace's IDE, and in which role; throws 401/403 in the one error body. */
  async function authorize(request: IdeRequest, reply: FastifyReply): Promise<WorkspaceAccess> {
    const id = request.params.id;
    const query = request.query as { token?: unknown };
    const queryToken = typeof query.token === 'string' ? query.token : undefined;
    const token = queryToken ?? request.cookies[IDE_COOKIE];
    if (token !== undefined) {
      const access = await tokenAccess(await tokens.verify(token, id), deps);
      if (queryToken !== undefined) {
        setTokenCookie(reply, id, queryToken, new Date((decodeJwt(queryToken).exp ?? 0) * 1000));
      }
      return access;
    }
    const signedIn = await deps.access.authenticateSession(request.cookies[SESSION_COOKIE]);
    if (!signedIn) {
      throw new NixSpaceError('UNAUTHENTICATED', 'Sign in (or bring a workspace token) to open this IDE');
    }
    const { user, sessionId } = signedIn;
    if ((await workspaces.ownerOf(id)) !== user.id) {
      throw new NixSpaceError('FORBIDDEN', 'You have no access to this workspace');
    }
    const issued = await tokens.issue({ holder: user.id, workspaceId: id, sessionId });
    setTokenCookie(reply, id, issued.token, issued.expiresAt);
    return ownerAccess(user, id, sessionId);
  }

  await app.register(async (scope) => {
    await scope.register(fastifyReplyFrom, {
      // Node's http client: undici cannot reach Unix sockets.
      http: { requestOptions: { timeout: 60_000 } },
      disableRequestLogging: true,
    });
    // Bodies go to code-server untouched, whatever their type.
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('*', (_request, payload, done) => done(null, payload));

    scope.addHook<{ Params: { id: string } }>('onRequest', async (request, reply) => {
      const origin = request.headers.origin;
      if (origin && origin !== deps.origin() && origin !== `${request.protocol}://${request.headers.host}`) {
        throw new NixSpaceError('FORBIDDEN', `Requests from origin ${origin} may not reach the IDE`);
      }
      request.workspaceAccess = await authorize(request, reply);
    });

    // Relative URLs resolve against the directory: the IDE's root needs its trailing slash.
    scope.get<{ Params: { id: string } }>('/ide/:id', async (request, reply) => {
      const search = request.url.includes('?') ? request.url.slice(request.url.indexOf('?')) : '';
      return reply.redirect(`${prefix(request.params.id)}/${search}`, 308);
    });

    // Owners and editors reach the workspace's IDE; viewers, its read-only twin (started on a
    // viewer's first request, so its sockets find it running).
    const isViewer = (request: IdeRequest) => request.workspaceAccess?.role === 'viewer';
    const endpointFor = async (request: IdeRequest) => {
      try {
        return isViewer(request)
          ? await workspaces.viewerIde(request.params.id)
          : workspaces.ideSocket(request.params.id);
      } catch (error) {
        // Opening the IDE of a hibernated workspace starts it again; VS Code retries meanwhile.
        void workspaces.resume(request.workspaceAccess!.actor, request.params.id).catch(() => {});
        throw error;
      }
    };

    const proxy = async (request: IdeRequest, reply: FastifyReply) => {
      const id = request.params.id;
      const { socketPath, cookie: secret } = await endpointFor(request);
      let path = request.url.slice(prefix(id).length);
      if (request.method === 'GET' && hasTokenParam(path)) {
        // The token has become a cookie; the address bar should not keep it.
        return reply.redirect(`${prefix(id)}${withoutToken(path)}`, 303);
      }
      path = withoutToken(path);
      return reply.from(`unix+http://${encodeURIComponent(socketPath)}${path}`, {
        rewriteRequestHeaders: (original, headers) => {
          const rewritten = { ...headers, host: original.headers.host ?? 'localhost' };
          rewritten.cookie = withSecret(original.headers.cookie, secret);
          return rewritten;
        },
        onError: (errorReply, { error }) => {
          errorReply.log.warn({ err: error, workspace: id }, 'IDE proxy error');
          void errorReply.status(502).send({
            code: 'IDE_UNAVAILABLE',
            message: 'The IDE did not answer; it may be restarting',
          });
        },
      });
    };

    // A WebSocket is relayed as bytes once its upgrade request has passed the checks above: VS
    // Code's frames can be of any size, and nothing here needs to read them.
    const relays = new Set<UpgradeRelay>();
    // Before the server closes: it waits for every connection, and these are no longer HTTP ones.
    scope.addHook('preClose', async () => {
      for (const relay of relays) relay.close();
    });
    scope.addHook<{ Params: { id: string } }>('preHandler', async (request, reply) => {
      if (!request.ws) return;
      const id = request.params.id;
      const { socketPath, cookie: secret } = await endpointFor(request);
      // An open IDE is someone in the workspace: it counts, and a revoked link closes it.
      let relay: UpgradeRelay | undefined;
      const leave = joinWorkspace(deps.presence, request.workspaceAccess!, 'ide', () => relay?.close());
      reply.hijack();
      relay = relayUpgrade(
        request.raw.socket,
        request.headers,
        {
          socketPath,
          path: withoutToken(request.url.slice(prefix(id).length)) || '/',
          host: 'localhost',
          origin: 'http://localhost',
          cookie: withSecret(request.headers.cookie, secret),
        },
        { code: 'IDE_UNAVAILABLE', message: 'The IDE did not answer; it may be restarting' },
        () => {
          relays.delete(relay!);
          leave();
        },
      );
      relays.add(relay);
    });

    scope.route<{ Params: { id: string } }>({
      method: 'GET',
      url: '/ide/:id/*',
      handler: proxy,
    });
    scope.route<{ Params: { id: string } }>({
      method: ['POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'],
      url: '/ide/:id/*',
      handler: proxy,
    });
  });
}

function hasTokenParam(path: string): boolean {
  const query = path.indexOf('?');
  return query >= 0 && new URLSearchParams(path.slice(query + 1)).has('token');
}

function withoutToken(path: string): string {
  const query = path.indexOf('?');
  if (query < 0) return path;
  const params = new URLSearchParams(path.slice(query + 1));
  if (!params.has('token')) return path;
  params.delete('token');
  const rest = params.toString();
  return `${path.slice(0, query)}${rest ? `?${rest}` : ''}`;
}

/**
 * The browser's cookies for code-server: NixSpace's own stay with NixSpace, and code-server's
 * session cookie is the secret of its start, which only the proxy has.
 */
function withSecret(header: string | undefined, secret: string): string {
  const own = [SESSION_COOKIE, IDE_COOKIE, WORKSPACE_COOKIE, CODE_SERVER_COOKIE].map((name) => `${name}=`);
  const kept = (header ?? '')
    .split(';')
    .map((part) => part.trim())
    .filter((part) => part && !own.some((prefix) => part.startsWith(prefix)));
  return [...kept, secret].join('; ');
}
