// The cookie that carries a workspace token on a workspace's IDE path (`/ide/<id>/`), where the
// IDE's frame, assets and sockets send it.

import type { FastifyReply } from 'fastify';

export const IDE_COOKIE = 'nixspace_ide';

export function ideCookiePath(id: string): string {
  return `/ide/${id}/`;
}

export function setIdeCookie(
  reply: FastifyReply,
  id: string,
  token: string,
  expiresAt: Date,
  secure: boolean,
) {
  reply.setCookie(IDE_COOKIE, token, {
    path: ideCookiePath(id),
    httpOnly: true,
    sameSite: 'lax',
    secure,
    expires: expiresAt,
  });
}
