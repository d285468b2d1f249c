// `nixspace open|stop|start|delete WORKSPACE`: one workspace's lifecycle, by id, id prefix or name.

import { parseCommand } from './command-args.js';
import { type ServerClient, withServer } from './server-client.js';
import { openUrl, reportSettled } from './up-command.js';
import { resolveWorkspace, type Workspace } from './workspace-target.js';

export const lifecycleUsage = `Usage: nixspace open|start|stop|delete WORKSPACE [--server URL | --data-dir DIR]

  open    open the workspace's page in a browser (and print its URL)
  start   start a stopped workspace again; prints its URL once it runs
  stop    stop a running workspace (its files stay)
  delete  delete a workspace and its files

WORKSPACE is an id, a unique id prefix or a name, as \`nixspace list\` shows them.
`;

type Action = (client: ServerClient, ws: Workspace) => Promise<number>;

const actions: Record<string, Action> = {
  async open(client, ws) {
    const url = client.workspaceUrl(ws.id);
    process.stdout.write(`${ws.name} (${ws.status})\n  ${url}\n`);
    await openUrl(url);
    return 0;
  },
  async start(client, ws) {
    process.stdout.write(`Starting ${ws.name}\n`);
    const started = performance.now();
    const running = await client.call<Workspace>('POST', `/api/workspaces/${ws.id}/start`);
    process.stdout.write(`  started in ${Math.round(performance.now() - started)} ms\n`);
    return reportSettled(client, running, { open: false });
  },
  async stop(client, ws) {
    const stopped = await client.call<Workspace>('POST', `/api/workspaces/${ws.id}/stop`);
    process.stdout.write(`${stopped.name} is ${stopped.status} (${stopped.id})\n`);
    return 0;
  },
  async delete(client, ws) {
    await client.call('DELETE', `/api/workspaces/${ws.id}`);
    process.stdout.write(`Deleted ${ws.name} (${ws.id})\n`);
    return 0;
  },
};

export async function runLifecycle(command: string, args: string[]): Promise<number> {
  const action = actions[command];
  if (!action) throw new Error(`unknown workspace command ${command}`);
  const parsed = parseCommand(args, {
    name: command,
    usage: lifecycleUsage,
    needs: 'one workspace',
    positionals: 1,
    options: {},
  });
  if (typeof parsed === 'number') return parsed;
  const target = parsed.positionals[0]!;
  return withServer(parsed.values, async (client) => action(client, await resolveWorkspace(client, target)));
}
