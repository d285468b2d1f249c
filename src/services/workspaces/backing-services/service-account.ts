// The non-root identity a server that refuses root runs as (CommandOptions.user). A user namespace
// maps it, so it needs no host privileges; it only has to exist in /etc/passwd because some
// programs look their own user up (initdb).
import { readFile } from 'node:fs/promises';

export interface ServiceAccount {
  name: string;
  uid: number;
  gid: number;
}

/** The first of `names` found in /etc/passwd (the sandbox sees the host's), else `nobody`. */
export async function serviceAccount(
  names: readonly string[],
  passwdPath = '/etc/passwd',
): Promise<ServiceAccount> {
  const text = await readFile(passwdPath, 'utf8').catch(() => '');
  const accounts = new Map<string, ServiceAccount>();
  for (const line of text.split('\n')) {
    const [name, , uid, gid] = line.split(':');
    if (name === undefined || uid === undefined || gid === undefined) continue;
    const account = { name, uid: Number(uid), gid: Number(gid) };
    if (account.uid > 0 && account.gid > 0) accounts.set(name, account);
  }
  for (const name of [...names, 'nobody']) {
    const account = accounts.get(name);
    if (account !== undefined) return account;
  }
  // Debian's nobody; postgres still starts, initdb alone needs a passwd entry.
  return { name: 'nobody', uid: 65534, gid: 65534 };
}
