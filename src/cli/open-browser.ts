// Opens a URL in the user's browser: $BROWSER when set, else xdg-open (open on macOS). Says so
// when there is none, so the URL is never silently lost.

import { spawn } from 'node:child_process';
import { access, constants } from 'node:fs/promises';
import { delimiter, join } from 'node:path';

async function onPath(command: string, env: NodeJS.ProcessEnv): Promise<string | undefined> {
  for (const dir of (env.PATH ?? '').split(delimiter)) {
    if (!dir) continue;
    const candidate = join(dir, command);
    try {
      await access(candidate, constants.X_OK);
      return candidate;
    } catch {
      // Not in this directory of PATH: look in the next.
    }
  }
  return undefined;
}

/** Starts the browser and answers what it ran, or a sentence saying why nothing was opened. */
export async function openInBrowser(
  url: string,
  env: NodeJS.ProcessEnv = process.env,
): Promise<{ opened: true; with: string } | { opened: false; reason: string }> {
  const wanted = env.BROWSER || (process.platform === 'darwin' ? 'open' : 'xdg-open');
  const command = wanted.includes('/') ? wanted : await onPath(wanted, env);
  if (!command) {
    return { opened: false, reason: `no ${wanted} here to open a browser with: open ${url} yourself` };
  }
  const child = spawn(command, [url], { detached: true, stdio: 'ignore', env });
  const started = await new Promise<Error | undefined>((resolve) => {
    child.once('spawn', () => resolve(undefined));
    child.once('error', resolve);
  });
  if (started)
    return { opened: false, reason: `${command} failed (${started.message}): open ${url} yourself` };
  child.unref();
  return { opened: true, with: command };
}
