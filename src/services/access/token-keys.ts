// The keys workspace tokens are signed with, kept in the data directory so tokens outlive a server
// restart. One key signs; a rotation makes a new one. A scheduled rotation keeps the old key until
// the tokens it signed have expired anyway (the UI renews them before then); a rotation by command
// drops every old key at once, so every token signed before it is refused.

import { randomBytes, randomUUID } from 'node:crypto';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { NixSpaceError } from '../../errors.js';

export interface SigningKey {
  /** Named in each token's header, so verification picks the key without trying each. */
  kid: string;
  key: Uint8Array;
  createdAt: Date;
  /** When an old key stops verifying; null for the key that signs. */
  retiresAt: Date | null;
}

interface StoredKey {
  kid: string;
  key: string;
  createdAt: string;
  retiresAt: string | null;
}

const KEY_BYTES = 32;

export class TokenKeys {
  readonly #file: string;
  #keys: SigningKey[];

  private constructor(file: string, keys: SigningKey[]) {
    this.#file = file;
    this.#keys = keys;
  }

  /**
   * Loads the keys from `file`, creating it on first use. A file from before keys rotated (one bare
   * key) is replaced: nothing tells how long that key has been around or who has read it.
   */
  static async open(file: string): Promise<TokenKeys> {
    const text = await readFile(file, 'utf8').catch(() => undefined);
    const stored = text === undefined ? undefined : parse(text, file);
    const keys = new TokenKeys(file, stored ?? []);
    if (!stored?.length) await keys.rotate({ overlapMs: 0 });
    return keys;
  }

  /** The key that signs new tokens. */
  get current(): SigningKey {
    return this.#keys[0]!;
  }

  /** The key a token names, while it still verifies. */
  find(kid: string, now = new Date()): SigningKey | undefined {
    return this.#keys.find((k) => k.kid === kid && (k.retiresAt === null || k.retiresAt > now));
  }

  /**
   * Makes a new signing key. The keys before it go `overlapMs` from now (0: at once), and older ones
   * already due go now.
   */
  async rotate(options: { overlapMs: number }): Promise<void> {
    const now = new Date();
    const retiresAt = new Date(now.getTime() + options.overlapMs);
    const kept =
      options.overlapMs > 0
        ? this.#keys
            .map((k) => ({
              ...k,
              retiresAt: k.retiresAt && k.retiresAt < retiresAt ? k.retiresAt : retiresAt,
            }))
            .filter((k) => k.retiresAt > now)
        : [];
    const fresh: SigningKey = {
      kid: randomUUID(),
      key: new Uint8Array(randomBytes(KEY_BYTES)),
      createdAt: now,
      retiresAt: null,
    };
    const keys = [fresh, ...kept];
    await this.#save(keys);
    this.#keys = keys;
  }

  /** Written whole to a new file, then renamed over the old: a crash leaves one or the other. */
  async #save(keys: SigningKey[]): Promise<void> {
    await mkdir(dirname(this.#file), { recursive: true, mode: 0o700 });
    const stored: StoredKey[] = keys.map((k) => ({
      kid: k.kid,
      key: Buffer.from(k.key).toString('base64url'),
      createdAt: k.createdAt.toISOString(),
      retiresAt: k.retiresAt?.toISOString() ?? null,
    }));
    const temporary = `${this.#file}.${process.pid}.tmp`;
    await writeFile(temporary, `${JSON.stringify({ keys: stored }, null, 2)}\n`, { mode: 0o600 });
    await rename(temporary, this.#file);
  }
}

function parse(text: string, file: string): SigningKey[] | undefined {
  if (!text.trimStart().startsWith('{')) return undefined;
  let stored: { keys?: StoredKey[] };
  try {
    stored = JSON.parse(text) as { keys?: StoredKey[] };
  } catch (error) {
    throw new NixSpaceError('INTERNAL', `the token keys in ${file} are not valid JSON`, { cause: error });
  }
  const keys = (stored.keys ?? []).map((k) => ({
    kid: k.kid,
    key: new Uint8Array(Buffer.from(k.key, 'base64url')),
    createdAt: new Date(k.createdAt),
    retiresAt: k.retiresAt === null ? null : new Date(k.retiresAt),
  }));
  if (keys.some((k) => typeof k.kid !== 'string' || k.key.length < KEY_BYTES)) {
    throw new NixSpaceError('INTERNAL', `a token key in ${file} is malformed or too short`);
  }
  return keys;
}
