// The terminal WebSocket: binary frames carry keystrokes in and output out; text frames carry JSON
// control messages (src/wire/terminal.ts). `?terminal=<id>` reattaches to a live shell. The owner
// and editors open shells and type; a viewer watches the owner's shell opened last (or waits for
// one), never an editor's, and what they type never reaches it.

import type { WebSocket } from '@fastify/websocket';
import type { FastifyInstance } from 'fastify';
import { toErrorBody } from '../errors.js';
import type { WorkspacePresence } from '../services/access/workspace-presence.js';
import type { TerminalSession, WorkspaceTerminals } from '../services/workspaces/terminals.js';
import type { TerminalControl } from '../wire/terminal.js';
import { type AccessDeps, joinWorkspace, resolveWorkspaceAccess } from './workspace-access.js';
import { closeWithError, rejectForeignOrigin } from './ws-guard.js';

interface TerminalQuery {
  terminal?: string;
  cols?: string;
  rows?: string;
}

export function registerTerminalRoutes(
  app: FastifyInstance,
  deps: AccessDeps & { presence: WorkspacePresence; origin: () => string },
) {
  app.get<{ Params: { id: string }; Querystring: TerminalQuery }>(
    '/api/workspaces/:id/terminal',
    { websocket: true },
    async (socket, request) => {
      if (rejectForeignOrigin(socket, request, deps.origin())) return;
      // Input that arrives while the shell is being set up is kept, not dropped.
      const early: [Buffer, boolean][] = [];
      const buffer = (data: Buffer, isBinary: boolean) => early.push([data, isBinary]);
      socket.on('message', buffer);
      const cleanups: (() => void)[] = [];
      socket.on('close', () => {
        for (const cleanup of cleanups.splice(0)) cleanup();
      });
      try {
        const id = request.params.id;
        const access = await resolveWorkspaceAccess(request, id, deps);
        // In before the shell is looked for: an open terminal keeps the workspace from hibernating
        // while it is being opened (and a hibernated one starts again for it). A socket already
        // closed would never leave.
        if (socket.readyState !== socket.OPEN) return;
        cleanups.push(
          joinWorkspace(deps.presence, access, 'terminal', (reason) => closeWithError(socket, reason)),
        );
        const terminals = await deps.workspaces.terminals(access.actor, id);
        if (socket.readyState !== socket.OPEN) return;
        if (access.role === 'viewer') {
          socket.off('message', buffer);
          watch(socket, terminals, request.query.terminal, cleanups);
          return;
        }
        const cols = clampInt(request.query.cols, 80);
        const rows = clampInt(request.query.rows, 24);
        const existing = request.query.terminal ? terminals.get(request.query.terminal) : undefined;
        const session =
          existing ?? (await terminals.open({ cols, rows }, access.role === 'owner' ? 'owner' : 'editor'));
        socket.off('message', buffer);
        if (existing) existing.resize(cols, rows);
        const detach = attach(socket, session, Boolean(existing));
        cleanups.push(detach);
        const handle = (data: Buffer, isBinary: boolean) => {
          if (isBinary) return session.write(data.toString('utf8'));
          const message = parseControl(socket, data);
          if (message?.type === 'resize' && Number.isFinite(message.cols) && Number.isFinite(message.rows)) {
            session.resize(message.cols!, message.rows!);
          }
        };
        socket.on('message', (data: Buffer, isBinary: boolean) => handle(data, isBinary));
        for (const [data, isBinary] of early) handle(data, isBinary);
      } catch (error) {
        socket.off('message', buffer);
        closeWithError(socket, toErrorBody(error));
      }
    },
  );
}

/** Streams a shell's output to the socket: its kept output first, then what follows. */
function attach(
  socket: WebSocket,
  session: TerminalSession,
  replayed: boolean,
  readOnly = false,
): () => void {
  const attachment = session.attach({
    onData: (data) => {
      if (socket.readyState === socket.OPEN) socket.send(Buffer.from(data, 'utf8'), { binary: true });
    },
    onExit: (code) => {
      if (socket.readyState !== socket.OPEN) return;
      socket.send(JSON.stringify({ type: 'exit', code }));
      socket.close(1000, 'shell exited');
    },
  });
  const hello: TerminalControl = {
    type: 'hello',
    terminalId: session.id,
    replayed,
    openedBy: session.openedBy,
    ...(readOnly ? { readOnly: true } : {}),
  };
  socket.send(JSON.stringify(hello));
  if (attachment.replay) socket.send(Buffer.from(attachment.replay, 'utf8'), { binary: true });
  return () => attachment.detach();
}

/** A viewer's socket: the named shell if it is the owner's, else the owner's latest, else their next. */
function watch(
  socket: WebSocket,
  terminals: WorkspaceTerminals,
  wanted: string | undefined,
  cleanups: (() => void)[],
): void {
  let told = false;
  socket.on('message', (data: Buffer, isBinary: boolean) => {
    if (!isBinary) return void parseControl(socket, data);
    // Keystrokes of a viewer are dropped; say why once.
    if (told || socket.readyState !== socket.OPEN) return;
    told = true;
    socket.send(
      JSON.stringify({
        type: 'read-only',
        code: 'READ_ONLY',
        message: 'You are viewing this workspace read-only: what you type is not sent to the shell',
      }),
    );
  });
  const named = wanted ? terminals.get(wanted) : undefined;
  const session = named?.openedBy === 'owner' ? named : terminals.latest('owner');
  if (session) {
    cleanups.push(attach(socket, session, session === named, true));
    return;
  }
  const waiting: TerminalControl = { type: 'waiting', message: 'The owner has no terminal open yet' };
  socket.send(JSON.stringify(waiting));
  const stop = terminals.watch({
    opened: (opened) => {
      if (opened.openedBy !== 'owner') return;
      stop();
      if (socket.readyState === socket.OPEN) cleanups.push(attach(socket, opened, false, true));
    },
    closed: () => {
      if (socket.readyState === socket.OPEN) socket.close(1000, 'workspace stopped');
    },
  });
  cleanups.push(stop);
}

function parseControl(
  socket: WebSocket,
  data: Buffer,
): { type?: string; cols?: number; rows?: number } | undefined {
  try {
    return JSON.parse(data.toString('utf8')) as { type?: string; cols?: number; rows?: number };
  } catch {
    closeWithError(socket, { code: 'BAD_REQUEST', message: 'Text frames must be JSON control messages' });
    return undefined;
  }
}

function clampInt(value: string | undefined, fallback: number): number {
  const n = Number.parseInt(value ?? '', 10);
  return Number.isFinite(n) && n > 0 && n < 1000 ? n : fallback;
}
