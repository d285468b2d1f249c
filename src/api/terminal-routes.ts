// The terminal WebSocket: binary frames carry keystrokes in and output out; text frames carry JSON
// control messages (hello, resize, exit, error). `?terminal=<id>` reattaches to a live shell.

import type { FastifyInstance } from 'fastify';
import { toErrorBody } from '../errors.js';
import type { WorkspaceService } from '../services/workspaces/workspace-service.js';
import { closeWithError, rejectForeignOrigin } from './ws-guard.js';

interface TerminalQuery {
  terminal?: string;
  cols?: string;
  rows?: string;
}

export function registerTerminalRoutes(
  app: FastifyInstance,
  workspaces: WorkspaceService,
  origin: () => string,
) {
  app.get<{ Params: { id: string }; Querystring: TerminalQuery }>(
    '/api/workspaces/:id/terminal',
    { websocket: true },
    async (socket, request) => {
      if (rejectForeignOrigin(socket, request, origin())) return;
      const user = request.user;
      if (!user) {
        return closeWithError(socket, {
          code: 'UNAUTHENTICATED',
          message: 'Sign in first: the terminal needs a valid session',
        });
      }
      // Input that arrives while the shell is being set up is kept, not dropped.
      const early: [Buffer, boolean][] = [];
      const buffer = (data: Buffer, isBinary: boolean) => early.push([data, isBinary]);
      socket.on('message', buffer);
      try {
        const terminals = await workspaces.terminals(user, request.params.id);
        const cols = clampInt(request.query.cols, 80);
        const rows = clampInt(request.query.rows, 24);
        const existing = request.query.terminal ? terminals.get(request.query.terminal) : undefined;
        const session = existing ?? terminals.open({ cols, rows });
        if (existing) existing.resize(cols, rows);
        if (socket.readyState !== socket.OPEN) return;
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
        socket.send(JSON.stringify({ type: 'hello', terminalId: session.id, replayed: Boolean(existing) }));
        if (attachment.replay) socket.send(Buffer.from(attachment.replay, 'utf8'), { binary: true });
        const handle = (data: Buffer, isBinary: boolean) => {
          if (isBinary) return session.write(data.toString('utf8'));
          try {
            const message = JSON.parse(data.toString('utf8')) as {
              type?: string;
              cols?: number;
              rows?: number;
            };
            if (message.type === 'resize' && Number.isFinite(message.cols) && Number.isFinite(message.rows)) {
              session.resize(message.cols!, message.rows!);
            }
          } catch {
            closeWithError(socket, {
              code: 'BAD_REQUEST',
              message: 'Text frames must be JSON control messages',
            });
          }
        };
        socket.off('message', buffer);
        socket.on('message', (data: Buffer, isBinary: boolean) => handle(data, isBinary));
        for (const [data, isBinary] of early) handle(data, isBinary);
        socket.on('close', () => attachment.detach());
      } catch (error) {
        socket.off('message', buffer);
        closeWithError(socket, toErrorBody(error));
      }
    },
  );
}

function clampInt(value: string | undefined, fallback: number): number {
  const n = Number.parseInt(value ?? '', 10);
  return Number.isFinite(n) && n > 0 && n < 1000 ? n : fallback;
}
