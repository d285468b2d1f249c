// SSH hosts that jobs can target: address, user, a private key and the known_hosts entries its
// host key must match. The key is checked when added and never leaves the server again.

import { createHash } from 'node:crypto';
import ssh2 from 'ssh2';
import { z } from 'zod';
import { NixSpaceError } from '../../errors.js';
import { deleteSshHost, findSshHost, insertSshHost, listSshHosts } from '../../store/job-queries.js';
import type { SshHostRow } from '../../store/schema.js';
import type { Store } from '../../store/store.js';
import type { SshHost } from '../../wire/jobs.js';
import type { User } from '../access/access-service.js';
import { validateKnownHosts } from './strategies/known-hosts.js';

export type SshHostView = SshHost;

const addSchema = z.object({
  name: z.string().trim().min(1, 'name is required').max(100).optional(),
  host: z
    .string({ error: 'host is required' })
    .trim()
    .min(1, 'host is required')
    .max(255)
    .regex(/^[A-Za-z0-9.:_-]+$/, 'host must be a host name or an IP address'),
  port: z.coerce.number().int().min(1).max(65535).default(22),
  username: z
    .string({ error: 'username is required' })
    .trim()
    .min(1, 'username is required')
    .max(64)
    .regex(/^[A-Za-z0-9._-]+$/, 'username has characters a login name cannot have'),
  privateKey: z
    .string({ error: 'privateKey is required' })
    .min(1, 'privateKey is required')
    .max(32 * 1024),
  knownHosts: z
    .string({ error: 'knownHosts is required' })
    .min(1, 'knownHosts is required')
    .max(64 * 1024),
});

export type AddSshHostInput = z.input<typeof addSchema>;

export class SshHostService {
  constructor(private readonly store: Store) {}

  async add(user: User, input: unknown): Promise<SshHostView> {
    const parsed = addSchema.safeParse(input ?? {});
    if (!parsed.success) {
      throw new NixSpaceError('BAD_REQUEST', parsed.error.issues.map((i) => i.message).join('; '));
    }
    const data = parsed.data;
    fingerprint(data.privateKey);
    try {
      validateKnownHosts(data.knownHosts);
    } catch (error) {
      throw new NixSpaceError(
        'BAD_REQUEST',
        `knownHosts is not a known_hosts file: ${(error as Error).message}`,
      );
    }
    const row = await insertSshHost(this.store.db, {
      id: crypto.randomUUID(),
      ownerId: user.id,
      name: data.name ?? `${data.username}@${data.host}${data.port === 22 ? '' : `:${data.port}`}`,
      host: data.host,
      port: data.port,
      username: data.username,
      privateKey: data.privateKey,
      knownHosts: data.knownHosts,
    });
    return toView(row);
  }

  async list(user: User): Promise<SshHostView[]> {
    return (await listSshHosts(this.store.db, user.id)).map(toView);
  }

  async remove(user: User, id: string): Promise<void> {
    await this.owned(user, id);
    await deleteSshHost(this.store.db, id);
  }

  /** The host row with its key, for connecting; undefined when the user has no such host. */
  async find(user: User, id: string): Promise<SshHostRow | undefined> {
    if (!isUuid(id)) return undefined;
    const row = await findSshHost(this.store.db, id);
    return row && row.owner_id === user.id ? row : undefined;
  }

  private async owned(user: User, id: string): Promise<SshHostRow> {
    const row = await this.find(user, id);
    if (!row) throw new NixSpaceError('UNKNOWN_TARGET', `SSH host ${id} does not exist`);
    return row;
  }
}

function fingerprint(privateKey: string): string {
  const parsed = ssh2.utils.parseKey(privateKey);
  if (parsed instanceof Error) {
    throw new NixSpaceError('BAD_REQUEST', `privateKey is not a usable private key: ${parsed.message}`);
  }
  const key = Array.isArray(parsed) ? parsed[0] : parsed;
  if (!key?.isPrivateKey()) {
    throw new NixSpaceError('BAD_REQUEST', 'privateKey holds a public key; give the private key');
  }
  const digest = createHash('sha256').update(key.getPublicSSH()).digest('base64').replace(/=+$/, '');
  return `SHA256:${digest}`;
}

function toView(row: SshHostRow): SshHostView {
  return {
    id: row.id,
    name: row.name,
    host: row.host,
    port: row.port,
    username: row.username,
    keyFingerprint: fingerprint(row.private_key),
    knownHosts: row.known_hosts,
    createdAt: row.created_at.toISOString(),
  };
}

export function isUuid(value: string): boolean {
  return /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(value);
}
