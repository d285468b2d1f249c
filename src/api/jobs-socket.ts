// The Socket.IO `/jobs` namespace on the one HTTP server. Upgrades under /socket.io/ go to
// Socket.IO, every other upgrade to Fastify's WebSocket routes. A connection must come from the
// UI's origin (or none, for non-browser clients) and carry a valid session cookie.
//
// The payloads are the contract in src/wire/jobs.ts: `execute-command`, `subscribe` and
// `unsubscribe` answer through their acknowledgement; `job:log` and `job:done` follow.

import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import { Server, type Socket } from 'socket.io';
import { type ErrorBody, NixSpaceError, toErrorBody } from '../errors.js';
import type { AccessService, User } from '../services/access/access-service.js';
import type { JobFollower } from '../services/jobs/job-follower.js';
import { type JobService, toWire } from '../services/jobs/job-service.js';
import { type ExecuteAck, JOB_EVENTS, type JobDoneEvent, type JobLogEvent } from '../wire/jobs.js';
import { SESSION_COOKIE } from './session.js';

export const SOCKET_PATH = '/socket.io';

type Ack = (answer: unknown) => void;

export function attachJobsSocket(
  app: FastifyInstance,
  deps: { jobs: JobService; access: AccessService; origin: () => string },
): Server {
  const server = app.server;
  const fastifyUpgrades = server.listeners('upgrade') as UpgradeListener[];
  server.removeAllListeners('upgrade');
  const io = new Server(server, {
    path: SOCKET_PATH,
    serveClient: false,
    destroyUpgrade: false,
    maxHttpBufferSize: 1024 * 1024,
    cors: { origin: (origin, callback) => callback(null, origin === deps.origin()), credentials: true },
    allowRequest: (request, callback) => {
      const refusal = foreignOrigin(request, deps.origin());
      callback(refusal ?? null, refusal === undefined);
    },
  });
  const engineUpgrades = server.listeners('upgrade') as UpgradeListener[];
  server.removeAllListeners('upgrade');
  server.on('upgrade', (request: IncomingMessage, socket: Duplex, head: Buffer) => {
    const listeners = request.url?.startsWith(`${SOCKET_PATH}/`) ? engineUpgrades : fastifyUpgrades;
    for (const listener of listeners) listener.call(server, request, socket, head);
  });

  const namespace = io.of('/jobs');
  namespace.use((socket, next) => {
    const cookies = app.parseCookie(socket.request.headers.cookie ?? '');
    deps.access
      .authenticate(cookies[SESSION_COOKIE])
      .then((user) => {
        if (!user)
          return next(
            socketError({ code: 'UNAUTHENTICATED', message: 'Sign in first to run or follow jobs' }),
          );
        socket.data.user = user;
        next();
      })
      .catch((error: unknown) => next(socketError(toErrorBody(error))));
  });
  namespace.on('connection', (socket) => handleConnection(socket, deps.jobs));
  return io;
}

type UpgradeListener = (request: IncomingMessage, socket: Duplex, head: Buffer) => void;

function handleConnection(socket: Socket, jobs: JobService): void {
  const user = socket.data.user as User;
  const followers = new Map<string, JobFollower>();
  const sink = (jobId: string) => ({
    send: (event: Parameters<typeof toWire>[0]) => {
      const wire: JobLogEvent = toWire(event);
      socket.emit(JOB_EVENTS.log, wire);
    },
    done: (done: JobDoneEvent) => {
      socket.emit(JOB_EVENTS.done, done);
      followers.get(jobId)?.close();
      followers.delete(jobId);
    },
    buffered: () => bufferedBytes(socket),
  });
  const follow = async (jobId: string, from: number) => {
    followers.get(jobId)?.close();
    const follower = await jobs.follow(user, jobId, from, sink(jobId));
    if (socket.disconnected) follower.close();
    else followers.set(jobId, follower);
  };
  /** Runs a request and answers it; resolves with the result, or undefined when it failed. */
  const answer = <T>(ack: unknown, work: () => Promise<T>): Promise<T | undefined> => {
    const reply: Ack = typeof ack === 'function' ? (ack as Ack) : () => {};
    return work().then(
      (result) => {
        reply(result);
        return result;
      },
      (error: unknown) => {
        const body = toErrorBody(error);
        if (typeof ack !== 'function') socket.emit(JOB_EVENTS.error, body);
        reply({ error: body });
        return undefined;
      },
    );
  };

  socket.on(JOB_EVENTS.execute, (payload: unknown, ack?: unknown) =>
    answer(ack, async () => {
      const input = (typeof payload === 'object' && payload !== null ? payload : {}) as Record<
        string,
        unknown
      >;
      const ack: ExecuteAck = { job: await jobs.run(user, input) };
      return ack;
    }).then((result) => {
      // Output follows the answer, so a client knows the job id before its first `job:log`.
      if (result?.job) {
        follow(result.job.id, 0).catch((error: unknown) => socket.emit(JOB_EVENTS.error, toErrorBody(error)));
      }
    }),
  );
  socket.on(JOB_EVENTS.subscribe, (payload: unknown, ack?: unknown) =>
    answer(ack, async () => {
      const { jobId, fromOffset } = (payload ?? {}) as { jobId?: unknown; fromOffset?: unknown };
      const from = fromOffset === undefined ? 0 : Number(fromOffset);
      if (typeof jobId !== 'string' || !Number.isInteger(from) || from < 0) {
        throw new NixSpaceError('BAD_REQUEST', 'subscribe needs a jobId and a byte offset (fromOffset ≥ 0)');
      }
      await follow(jobId, from);
      return { jobId, fromOffset: from };
    }),
  );
  socket.on(JOB_EVENTS.unsubscribe, (payload: unknown, ack?: unknown) =>
    answer(ack, async () => {
      const { jobId } = (payload ?? {}) as { jobId?: unknown };
      if (typeof jobId === 'string') {
        followers.get(jobId)?.close();
        followers.delete(jobId);
      }
      return { jobId };
    }),
  );
  socket.on('disconnect', () => {
    for (const follower of followers.values()) follower.close();
    followers.clear();
  });
}

/** Bytes queued for this client: Engine.IO's write buffer plus the WebSocket's own. */
function bufferedBytes(socket: Socket): number {
  const conn = socket.conn as unknown as {
    writeBuffer?: { data?: unknown }[];
    transport?: { socket?: { bufferedAmount?: number } };
  };
  let bytes = conn.transport?.socket?.bufferedAmount ?? 0;
  for (const packet of conn.writeBuffer ?? []) {
    if (typeof packet.data === 'string') bytes += packet.data.length;
  }
  return bytes;
}

function foreignOrigin(request: IncomingMessage, allowed: string): string | undefined {
  const origin = request.headers.origin;
  if (!origin) return undefined;
  const scheme = (request.socket as { encrypted?: boolean }).encrypted ? 'https' : 'http';
  if (origin === allowed || origin === `${scheme}://${request.headers.host}`) return undefined;
  return `Socket.IO from origin ${origin} is not allowed`;
}

function socketError(body: ErrorBody): Error & { data: ErrorBody } {
  return Object.assign(new Error(body.message), { data: body });
}
