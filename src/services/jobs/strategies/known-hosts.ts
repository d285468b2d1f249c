// known_hosts matching for SSH host keys: plain and hashed (`|1|salt|hash`) host patterns,
// `[host]:port` for other ports than 22, negations and `*`/`?` wildcards. A key is trusted only
// when a line names this host and carries exactly this key; there is no trust on first use.

import { createHmac } from 'node:crypto';

export interface KnownHostKey {
  type: string;
  key: Buffer;
}

/** The entries of known_hosts text that apply to host:port. */
export function keysForHost(knownHosts: string, host: string, port: number): KnownHostKey[] {
  const name = port === 22 ? host : `[${host}]:${port}`;
  const keys: KnownHostKey[] = [];
  for (const raw of knownHosts.split(/\r?\n/)) {
    const line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    let fields = line.split(/\s+/);
    if (fields[0]?.startsWith('@')) {
      // @revoked and @cert-authority lines never make a key trusted.
      continue;
    }
    if (fields.length < 3) continue;
    const [patterns, type, base64] = fields as [string, string, string];
    fields = [];
    if (!matchesPatterns(patterns, name)) continue;
    const key = Buffer.from(base64, 'base64');
    if (key.length > 0) keys.push({ type, key });
  }
  return keys;
}

/** Parses known_hosts text; throws with the line number of the first malformed line. */
export function validateKnownHosts(knownHosts: string): number {
  let entries = 0;
  knownHosts.split(/\r?\n/).forEach((raw, index) => {
    const line = raw.trim();
    if (!line || line.startsWith('#')) return;
    const fields = line.split(/\s+/);
    const offset = fields[0]?.startsWith('@') ? 1 : 0;
    const type = fields[offset + 1];
    const base64 = fields[offset + 2];
    if (!type || !base64 || !/^[A-Za-z0-9+/]+=*$/.test(base64) || keyType(base64) !== type) {
      throw new Error(`line ${index + 1} is not "<hosts> <key type> <base64 key>"`);
    }
    entries++;
  });
  if (entries === 0) throw new Error('it holds no host key');
  return entries;
}

/** The type named inside an SSH public key blob (its first length-prefixed string). */
function keyType(base64: string): string | undefined {
  const blob = Buffer.from(base64, 'base64');
  if (blob.length < 4) return undefined;
  const length = blob.readUInt32BE(0);
  return length > 0 && length < 64 && blob.length >= 4 + length
    ? blob.toString('latin1', 4, 4 + length)
    : undefined;
}

function matchesPatterns(patterns: string, name: string): boolean {
  if (patterns.startsWith('|1|')) {
    const [, , salt, hash] = patterns.split('|');
    if (!salt || !hash) return false;
    const digest = createHmac('sha1', Buffer.from(salt, 'base64')).update(name).digest('base64');
    return digest === hash;
  }
  let matched = false;
  for (const pattern of patterns.split(',')) {
    const negated = pattern.startsWith('!');
    const body = negated ? pattern.slice(1) : pattern;
    if (wildcard(body, name)) {
      if (negated) return false;
      matched = true;
    }
  }
  return matched;
}

function wildcard(pattern: string, value: string): boolean {
  const regex = new RegExp(
    `^${pattern
      .replace(/[.+^${}()|[\]\\]/g, '\\$&')
      .replace(/\*/g, '.*')
      .replace(/\?/g, '.')}$`,
    'i',
  );
  return regex.test(value);
}
