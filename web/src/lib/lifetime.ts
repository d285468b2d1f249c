// What the UI says of a workspace's lifetime: whether its owner is warned that it will be deleted,
// and in what words.
import type { Workspace } from '../api/types';
import { formatAbsoluteTime, formatRelativeTime } from './format';

/** The deadline is near (the server's warning time has come) and the workspace is not kept. */
export function isExpiring(ws: Workspace, now: number): boolean {
  const { expiresAt, warnFrom } = ws.lifetime;
  return ws.status !== 'deleted' && expiresAt !== null && warnFrom !== null && Date.parse(warnFrom) <= now;
}

/** "Deleted in 45 minutes", or "Deleted shortly" once the deadline has come. */
export function expiryLabel(ws: Workspace, now: number): string {
  const expiresAt = ws.lifetime.expiresAt;
  if (expiresAt === null) return '';
  if (Date.parse(expiresAt) - now < 45_000) return 'Deleted shortly';
  return `Deleted ${formatRelativeTime(expiresAt, now)}`;
}

/** The sentence of the warning banner. */
export function expiryMessage(ws: Workspace, now: number): string {
  const expiresAt = ws.lifetime.expiresAt;
  if (expiresAt === null) return '';
  const when = Date.parse(expiresAt) - now < 45_000 ? 'shortly' : `${formatRelativeTime(expiresAt, now)}`;
  return `This workspace and its files will be deleted ${when} (${formatAbsoluteTime(expiresAt)}), when its lifetime ends.`;
}
