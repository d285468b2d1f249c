// WebSocket routes answer refusals inside the socket (the browser cannot read an HTTP status of a
// failed upgrade): an error message in the one body shape, then a close code the UI understands.

import type { WebSocket } from '@fastify/websocket';
import type { FastifyRequest } from 'fastify';
import type { ErrorBody, ErrorCode } from '../errors.js';

const closeCodes: Partial<Record<ErrorCode, number>> = {
  UNAUTHENTICATED: 4401,
  FORBIDDEN: 4403,
  NOT_FOUND: 4404,
  CONFLICT: 4409,
  READ_ONLY: 4403,
  SHARE_LINK_INVALID: 4404,
  SHARE_LINK_REVOKED: 4410,
  SHARE_LINK_EXPIRED: 4410,
  TOKEN_EXPIRED: 4401,
  WORKSPACE_FULL: 4429,
};

export function closeWithError(socket: WebSocket, body: ErrorBody): void {
  if (socket.readyState === socket.OPEN) {
    socket.send(JSON.stringify({ type: 'error', ...body }));
    socket.close(closeCodes[body.code] ?? 4500, body.code);
  }
}

/**
 * Refuses cross-site WebSocket hijacking: a browser always sends Origin, and it must be the UI's
 * origin or the origin the request was addressed to.
 */
export function rejectForeignOrigin(socket: WebSocket, request: FastifyRequest, allowed: string): boolean {
  const origin = request.headers.origin;
  if (!origin) return false;
  const sameHost = `${request.protocol}://${request.headers.host}`;
  if (origin === allowed || origin === sameHost) return false;
  closeWithError(socket, { code: 'FORBIDDEN', message: `WebSocket from origin ${origin} is not allowed` });
  return true;
}
