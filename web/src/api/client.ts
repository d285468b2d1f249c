// The one module through which the UI reaches the server: REST calls and the two WebSockets.
// Every failure surfaces as an ApiError carrying the server's `{ code, message, detail? }` body.
import type { RefListing, UncommittedPolicy } from '@wire/switching';
import type { SandboxDriverList } from '@wire/workspaces';
import { apiUrl, credentialsMode } from '../lib/backend-url';
import type {
  CreatedShare,
  EnvironmentDiff,
  EnvironmentVersion,
  ErrorBody,
  ShareLink,
  ShareRole,
  ShareVisit,
  User,
  Workspace,
  WorkspaceLineage,
} from './types';

export class ApiError extends Error implements ErrorBody {
  readonly code: string;
  readonly status: number;
  readonly detail?: string;

  constructor(status: number, body: ErrorBody) {
    super(body.message);
    this.name = 'ApiError';
    this.status = status;
    this.code = body.code;
    if (body.detail !== undefined) this.detail = body.detail;
  }
}

/** WebSocket close codes the server uses to say why a socket was refused. */
export const CloseCode = {
  unauthenticated: 4401,
  forbidden: 4403,
  notFound: 4404,
  notRunning: 4409,
  /** The share link was revoked or ran out. */
  linkGone: 4410,
  /** The workspace has as many people in it as it allows. */
  full: 4429,
} as const;

type UnauthenticatedListener = () => void;
const unauthenticatedListeners = new Set<UnauthenticatedListener>();

/** Called whenever the server answers 401 or closes a socket with 4401; returns an unsubscribe. */
export function onUnauthenticated(listener: UnauthenticatedListener): () => void {
  unauthenticatedListeners.add(listener);
  return () => unauthenticatedListeners.delete(listener);
}

export function notifyUnauthenticated(): void {
  for (const listener of unauthenticatedListeners) listener();
}

/**
 * An answer that is not the product's: a 502–504 is the server going or not there yet (Fastify
 * closing, a proxy in front), which a page waits out like a lost connection.
 */
function foreignErrorBody(response: Response): ErrorBody {
  const message = `The server answered ${response.status} ${response.statusText}`;
  return { code: response.status >= 502 && response.status <= 504 ? 'SERVER_AWAY' : 'INTERNAL', message };
}

/** The server could not be reached or is between runs: worth trying again, not a verdict. */
export function isServerAway(error: unknown): boolean {
  return !(error instanceof ApiError) || error.code === 'NETWORK' || error.code === 'SERVER_AWAY';
}

function isErrorBody(value: unknown): value is ErrorBody {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as ErrorBody).code === 'string' &&
    typeof (value as ErrorBody).message === 'string'
  );
}

export async function request<T>(method: string, path: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = { accept: 'application/json' };
  const init: RequestInit = { method, headers, credentials: credentialsMode() };
  if (body !== undefined) {
    headers['content-type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  let response: Response;
  try {
    response = await fetch(apiUrl(path), init);
  } catch {
    throw new ApiError(0, { code: 'NETWORK', message: 'Cannot reach the NixSpace server. Is it running?' });
  }
  if (response.status === 204) return undefined as T;
  const text = await response.text();
  let parsed: unknown;
  try {
    parsed = text === '' ? undefined : JSON.parse(text);
  } catch {
    parsed = undefined;
  }
  if (!response.ok) {
    const error = new ApiError(response.status, isErrorBody(parsed) ? parsed : foreignErrorBody(response));
    if (response.status === 401) notifyUnauthenticated();
    throw error;
  }
  return parsed as T;
}

const workspacePath = (id: string) => `/api/workspaces/${encodeURIComponent(id)}`;

export async function getMe(): Promise<User> {
  const { user } = await request<{ user: User }>('GET', '/api/me');
  return user;
}

export function logout(): Promise<void> {
  return request<void>('POST', '/api/auth/logout');
}

export async function listWorkspaces(): Promise<Workspace[]> {
  const { workspaces } = await request<{ workspaces: Workspace[] }>('GET', '/api/workspaces');
  return workspaces;
}

/** What the create form asks for: a repository, optionally a ref and a sandbox driver of the server's. */
export interface NewWorkspace {
  repoUrl: string;
  ref?: string;
  sandbox?: string;
}

export function createWorkspace(input: NewWorkspace): Promise<Workspace> {
  return request<Workspace>('POST', '/api/workspaces', input);
}

/** The sandbox drivers a new workspace may run on, the server's default first. */
export function listSandboxDrivers(): Promise<SandboxDriverList> {
  return request<SandboxDriverList>('GET', '/api/sandboxes');
}

export function getWorkspace(id: string): Promise<Workspace> {
  return request<Workspace>('GET', workspacePath(id));
}

export function startWorkspace(id: string): Promise<Workspace> {
  return request<Workspace>('POST', `${workspacePath(id)}/start`);
}

export function stopWorkspace(id: string): Promise<Workspace> {
  return request<Workspace>('POST', `${workspacePath(id)}/stop`);
}

/** Keeps the workspace past its lifetime (its owner only). */
export function keepWorkspace(id: string): Promise<Workspace> {
  return request<Workspace>('POST', `${workspacePath(id)}/keep`);
}

/** Starts a hibernated workspace again (anyone who may open it); any other stays as it is. */
export function resumeWorkspace(id: string): Promise<Workspace> {
  return request<Workspace>('POST', `${workspacePath(id)}/resume`);
}

export function listRefs(id: string): Promise<RefListing> {
  return request<RefListing>('GET', `${workspacePath(id)}/refs`);
}

export function switchWorkspace(
  id: string,
  input: { ref: string; uncommitted: UncommittedPolicy; jobs?: 'refuse' | 'cancel' },
): Promise<Workspace> {
  return request<Workspace>('POST', `${workspacePath(id)}/switch`, input);
}

/**
 * A short-lived token for the workspace's IDE. The answer also sets it as a cookie scoped to the
 * IDE's path, which is what the IDE's frame (and its assets and sockets) carry.
 */
export function requestIdeToken(id: string): Promise<{ token: string; expiresAt: string; url: string }> {
  return request('POST', `${workspacePath(id)}/ide/token`);
}

export async function listVersions(id: string): Promise<EnvironmentVersion[]> {
  const { versions } = await request<{ versions: EnvironmentVersion[] }>(
    'GET',
    `${workspacePath(id)}/versions`,
  );
  return versions;
}

export function diffEnvironments(from: string, to: string): Promise<EnvironmentDiff> {
  const query = new URLSearchParams({ from, to });
  return request<EnvironmentDiff>('GET', `/api/environments/diff?${query}`);
}

/** A new workspace whose parent is this one, from its files, moved to `ref` when given. */
export function branchWorkspace(id: string, ref: string | undefined): Promise<Workspace> {
  return request<Workspace>('POST', `${workspacePath(id)}/branch`, ref ? { ref } : {});
}

export function getLineage(id: string): Promise<WorkspaceLineage> {
  return request<WorkspaceLineage>('GET', `${workspacePath(id)}/lineage`);
}

export function rollbackWorkspace(id: string, versionId: string): Promise<Workspace> {
  return request<Workspace>('POST', `${workspacePath(id)}/rollback`, { versionId });
}

export function createShare(
  id: string,
  input: { role: ShareRole; expiresInHours: number | null; anonymous: boolean },
): Promise<CreatedShare> {
  return request<CreatedShare>('POST', `${workspacePath(id)}/shares`, input);
}

export async function listShares(id: string): Promise<ShareLink[]> {
  const { shares } = await request<{ shares: ShareLink[] }>('GET', `${workspacePath(id)}/shares`);
  return shares;
}

export function revokeShare(linkId: string): Promise<ShareLink> {
  return request<ShareLink>('DELETE', `/api/shares/${encodeURIComponent(linkId)}`);
}

/**
 * Opens a share link; the answer's token also comes as cookies for the workspace's paths.
 * `previous` (the token of an earlier visit) keeps this tab the same person after a reload.
 */
export function visitShare(token: string, previous?: string): Promise<ShareVisit> {
  return request<ShareVisit>('POST', '/api/shares/visit', { token, ...(previous ? { previous } : {}) });
}

export function deleteWorkspace(id: string): Promise<void> {
  return request<void>('DELETE', workspacePath(id));
}

function socketUrl(path: string, params: Record<string, string | number | undefined> = {}): string {
  const url = new URL(apiUrl(path));
  url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
  for (const [key, value] of Object.entries(params)) {
    if (value !== undefined) url.searchParams.set(key, String(value));
  }
  return url.href;
}

/** The one-way progress stream of a workspace: snapshots and step log lines, as JSON text frames. */
export function openWorkspaceEvents(id: string): WebSocket {
  return new WebSocket(socketUrl(`${workspacePath(id)}/events`));
}

/** A terminal in a running workspace; pass `terminal` to reattach to an existing shell. */
export function openTerminal(id: string, size: { cols: number; rows: number }, terminal?: string): WebSocket {
  const socket = new WebSocket(
    socketUrl(`${workspacePath(id)}/terminal`, { cols: size.cols, rows: size.rows, terminal }),
  );
  socket.binaryType = 'arraybuffer';
  return socket;
}

const terminalKey = (workspaceId: string) => `nixspace.terminal.${workspaceId}`;

/** The shell this tab was attached to, kept per tab so a reload reattaches to it. */
export function loadTerminalId(workspaceId: string): string | undefined {
  try {
    return window.sessionStorage.getItem(terminalKey(workspaceId)) ?? undefined;
  } catch {
    return undefined;
  }
}

export function saveTerminalId(workspaceId: string, terminalId: string | undefined): void {
  try {
    if (terminalId === undefined) window.sessionStorage.removeItem(terminalKey(workspaceId));
    else window.sessionStorage.setItem(terminalKey(workspaceId), terminalId);
  } catch {
    // Storage can be disabled (private mode, policies); reattaching is then just not possible.
  }
}
