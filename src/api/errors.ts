// The API edge of the error model: every failure leaves as `{ code, message, detail? }` with the
// status its code maps to; anything unexpected is logged with detail and shown without it.

import type { FastifyError, FastifyInstance } from 'fastify';
import { type ErrorBody, NixSpaceError, toErrorBody } from '../errors.js';

export function installErrorHandling(app: FastifyInstance): void {
  app.setErrorHandler((error: FastifyError | NixSpaceError | Error, request, reply) => {
    if (error instanceof NixSpaceError) {
      return reply.status(error.httpStatus).send(error.toBody());
    }
    const fastifyError = error as FastifyError;
    if (fastifyError.validation) {
      const body: ErrorBody = { code: 'BAD_REQUEST', message: `Invalid request: ${fastifyError.message}` };
      return reply.status(400).send(body);
    }
    if (fastifyError.statusCode && fastifyError.statusCode >= 400 && fastifyError.statusCode < 500) {
      const code = fastifyError.statusCode === 404 ? 'NOT_FOUND' : 'BAD_REQUEST';
      return reply.status(fastifyError.statusCode).send({ code, message: fastifyError.message });
    }
    request.log.error({ err: error }, 'unhandled error');
    return reply.status(500).send(toErrorBody(error));
  });
}

export function notFoundBody(method: string, url: string): ErrorBody {
  return { code: 'NOT_FOUND', message: `No route ${method} ${url.split('?')[0]}` };
}
