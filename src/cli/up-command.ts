// `nixspace up URL [--ref REF] [--open]`: creates a workspace on the running server, prints its
// steps with their timings as they end, then its URL; exits 0 once it runs, 1 with the reason
// when it fails.

import { parseCommand } from './command-args.js';
import { openInBrowser } from './open-browser.js';
import { creating, followProgress } from './progress.js';
import { type ServerClient, withServer } from './server-client.js';
import { checkedOut, type Workspace } from './workspace-target.js';

export const upUsage = `Usage: nixspace up REPO_URL [--ref REF] [--open] [--server URL | --data-dir DIR]

Creates a workspace from a Git URL (https://, http://, or file:// and local paths where the server
allows them) at a branch, tag or commit (default: the repository's default branch), prints each step with its timing as it
ends, and the workspace's URL once it runs. --open opens that URL in a browser. Ctrl-C stops
following; the workspace is still made (\`nixspace logs\` follows it again).
`;

export async function runUp(args: string[]): Promise<number> {
  const parsed = parseCommand(args, {
    name: 'up',
    usage: upUsage,
    needs: 'one repository URL',
    positionals: 1,
    options: { ref: { type: 'string' }, open: { type: 'boolean' } },
  });
  if (typeof parsed === 'number') return parsed;
  const { values } = parsed;
  const repoUrl = parsed.positionals[0]!;
  return withServer(values, async (client) => {
    const created = await client.call<Workspace>('POST', '/api/workspaces', {
      repoUrl,
      ...(values.ref ? { ref: values.ref } : {}),
    });
    process.stdout.write(
      `Creating ${created.name} (${created.id}) from ${created.repoUrl}${values.ref ? ` at ${values.ref}` : ''} on ${client.description}\n`,
    );
    const settled = await followProgress(client, created.id, creating);
    return reportSettled(client, settled, { open: values.open === true });
  });
}

/** Prints where a workspace that came up runs (and opens it), or why it did not come up. */
export async function reportSettled(
  client: ServerClient,
  ws: Workspace,
  options: { open: boolean },
): Promise<number> {
  if (ws.status !== 'running') {
    const step = ws.error?.step ? ws.steps.find((s) => s.name === ws.error?.step)?.label : undefined;
    const reason = ws.error ? `${ws.error.code}: ${ws.error.message}` : `the workspace is ${ws.status}`;
    process.stderr.write(`nixspace: ${ws.name} did not start: ${reason}${step ? ` (step: ${step})` : ''}\n`);
    return 1;
  }
  const url = client.workspaceUrl(ws.id);
  process.stdout.write(`${ws.name} is running at ${checkedOut(ws)}\n  ${url}\n`);
  if (options.open) await openUrl(url);
  return 0;
}

export async function openUrl(url: string): Promise<void> {
  const browser = await openInBrowser(url);
  if (browser.opened) process.stdout.write(`Opened in the browser (${browser.with})\n`);
  else process.stderr.write(`nixspace: ${browser.reason}\n`);
}
