// `nixspace login [--server URL] [LINK]` and `nixspace logout --server URL`: a session on a server
// reached by URL. A one-time sign-in link (from `nixspace login-link` or `nixspace serve`) is spent
// for a session, whose cookie is kept in ~/.config/nixspace/credentials.json (0600) for that server.

import { createInterface } from 'node:readline/promises';
import { parseArgs } from 'node:util';
import { credentialsPath, loadSession, saveSession, serverKey } from './credentials.js';
import { redeemLink } from './server-client.js';

export const loginUsage = `Usage:
  nixspace login [--server URL] [LINK]
  nixspace logout --server URL

login spends a one-time sign-in link for a session on the server and keeps it in
${credentialsPath()} (readable only by you); later commands use it with --server URL
(or NIXSPACE_SERVER). Without LINK it asks for one (or reads it from standard input).
Get a link on the server's machine with \`nixspace login-link\`, or take the one \`nixspace serve\` printed.
`;

export async function runLogin(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    options: { server: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
    allowPositionals: true,
    strict: true,
  });
  if (values.help) {
    process.stdout.write(loginUsage);
    return 0;
  }
  const given = positionals[0] ?? (await askForLink(values.server));
  if (!given) {
    const server = values.server ? serverKey(values.server) : 'URL';
    process.stderr.write(
      `nixspace login needs a one-time sign-in link for ${server}: run \`nixspace login-link\` on the server's machine ` +
        `(or take the one \`nixspace serve\` printed), then \`nixspace login --server ${server} LINK\`\n`,
    );
    return 2;
  }
  const link = parseLink(given);
  const server = serverKey(values.server ?? link.origin);
  // The link may name the server's public URL; the token is spent on the server asked for.
  const cookie = await redeemLink(`${server}/auth/link?token=${encodeURIComponent(link.token)}`);
  const me = await fetch(`${server}/api/me`, { headers: { cookie } });
  const { user } = (await me.json()) as { user: { email: string } };
  await saveSession(server, { cookie, email: user.email, savedAt: new Date().toISOString() });
  process.stdout.write(`Signed in to ${server} as ${user.email} (session kept in ${credentialsPath()})\n`);
  return 0;
}

export async function runLogout(args: string[]): Promise<number> {
  const { values } = parseArgs({ args, options: { server: { type: 'string' } }, strict: true });
  if (!values.server) {
    process.stderr.write(`nixspace logout needs --server URL\n\n${loginUsage}`);
    return 2;
  }
  const server = serverKey(values.server);
  const session = await loadSession(server);
  if (!session) {
    process.stdout.write(`Not signed in to ${server}\n`);
    return 0;
  }
  // Forgotten here even when the server cannot be told (it is gone, or the session expired).
  await fetch(`${server}/api/auth/logout`, { method: 'POST', headers: { cookie: session.cookie } }).catch(
    () => undefined,
  );
  await saveSession(server, undefined);
  process.stdout.write(`Signed out of ${server}\n`);
  return 0;
}

function parseLink(text: string): { origin: string; token: string } {
  let url: URL;
  try {
    url = new URL(text.trim());
  } catch {
    throw new Error(`${JSON.stringify(text)} is not a sign-in link (http://…/auth/link?token=…)`);
  }
  const token = url.searchParams.get('token');
  if (url.pathname !== '/auth/link' || !token) {
    throw new Error(`${url.href} is not a sign-in link (http://…/auth/link?token=…)`);
  }
  return { origin: url.origin, token };
}

/** Asks on the terminal, or reads the first line of standard input when it is not one. */
async function askForLink(server: string | undefined): Promise<string | undefined> {
  const prompt = process.stdin.isTTY
    ? `Paste a one-time sign-in link${server ? ` for ${server}` : ''}: `
    : '';
  const reader = createInterface({
    input: process.stdin,
    output: process.stdin.isTTY ? process.stdout : undefined,
  });
  try {
    if (prompt) return (await reader.question(prompt)).trim() || undefined;
    for await (const line of reader) return line.trim() || undefined;
    return undefined;
  } finally {
    reader.close();
  }
}
