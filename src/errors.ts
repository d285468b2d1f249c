// The closed set of errors NixSpace reports. Every code maps to an HTTP status here, so a new
// code does not compile until it has one; the API edge turns anything else into INTERNAL.

import type { ErrorBody as WireErrorBody } from './wire/errors.js';

export const httpStatusByCode = {
  BAD_REQUEST: 400,
  INVALID_URL: 400,
  UNSUPPORTED_SCHEME: 400,
  UNAUTHENTICATED: 401,
  /** A short-lived workspace token ran out; the client asks for a new one. */
  TOKEN_EXPIRED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  REPO_NOT_FOUND: 404,
  REF_NOT_FOUND: 404,
  CONFLICT: 409,
  UNCOMMITTED_CHANGES: 409,
  /** A switch would pull the checkout from under running jobs; the caller may cancel them. */
  JOBS_RUNNING: 409,
  EMPTY_REPOSITORY: 422,
  REPO_TOO_LARGE: 413,
  HOST_UNREACHABLE: 504,
  GIT_FAILED: 502,
  SANDBOX_UNAVAILABLE: 503,
  SANDBOX_FAILED: 500,
  /** The spec asks for a toolchain or service version the pinned nixpkgs cannot supply. */
  UNSUPPORTED_VERSION: 422,
  /** `nix build` / `nix print-dev-env` failed; the detail carries the tail of Nix's log. */
  ENVIRONMENT_BUILD_FAILED: 502,
  INSTALL_FAILED: 422,
  INTERRUPTED: 503,
  /** code-server is not installed, not installable (names the missing package), starting or failed. */
  IDE_UNAVAILABLE: 503,
  /** A job id, workspace or SSH host that does not exist (or belongs to someone else). */
  JOB_NOT_FOUND: 404,
  UNKNOWN_TARGET: 404,
  /** Cancelling a job that has already finished. */
  JOB_FINISHED: 409,
  /** The SSH server refused the key. */
  SSH_AUTH_FAILED: 502,
  /** The SSH server's key does not match the host's known_hosts entry. */
  HOST_KEY_MISMATCH: 502,
  /** The command could not be started (the failure is also recorded on the job). */
  JOB_START_FAILED: 502,
  /** A share token that no link has (mistyped, or never issued). */
  SHARE_LINK_INVALID: 404,
  /** The owner revoked the share link; what it opened is closed. */
  SHARE_LINK_REVOKED: 410,
  SHARE_LINK_EXPIRED: 410,
  /** The workspace already has as many people in it as it allows (3 by default). */
  WORKSPACE_FULL: 409,
  /** A viewer (read-only share) tried to change something. */
  READ_ONLY: 403,
  INTERNAL: 500,
} as const satisfies Record<string, number>;

export type ErrorCode = keyof typeof httpStatusByCode;

/** The one error body of REST, WebSocket, GraphQL extensions and the UI, with a known code. */
export type ErrorBody = WireErrorBody<ErrorCode>;

export class NixSpaceError extends Error {
  readonly code: ErrorCode;
  readonly detail: string | undefined;

  constructor(code: ErrorCode, message: string, options?: { detail?: string; cause?: unknown }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'NixSpaceError';
    this.code = code;
    this.detail = options?.detail;
  }

  get httpStatus(): number {
    return httpStatusByCode[this.code];
  }

  toBody(): ErrorBody {
    return this.detail === undefined
      ? { code: this.code, message: this.message }
      : { code: this.code, message: this.message, detail: this.detail };
  }
}

export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === 'string' && Object.hasOwn(httpStatusByCode, value);
}

/** Normalises anything thrown into a client-safe body; unknown errors lose their internals. */
export function toErrorBody(error: unknown): ErrorBody {
  if (error instanceof NixSpaceError) return error.toBody();
  return { code: 'INTERNAL', message: 'Internal error' };
}
