// `nixspace list` and `nixspace switch`: the owner's workspaces from the command line.

import { parseCommand } from './command-args.js';
import { followProgress } from './progress.js';
import { withServer } from './server-client.js';
import {
  checkedOut,
  describeWorkspace,
  listWorkspaces,
  resolveWorkspace,
  type Workspace,
} from './workspace-target.js';

const usage = `Usage:
  nixspace list [--server URL | --data-dir DIR]
  nixspace switch WORKSPACE REF [--stash | --carry] [--cancel-jobs] [--server URL | --data-dir DIR]

switch moves a running workspace to another branch, tag or commit in place and prints the steps
as they finish. Uncommitted changes stop it, unless --stash (saved in a named git stash) or
--carry (carried over when they apply cleanly). Jobs running in the workspace stop it too,
unless --cancel-jobs. WORKSPACE is an id, a unique id prefix or a name.
`;

export async function runList(args: string[]): Promise<number> {
  const parsed = parseCommand(args, {
    name: 'list',
    usage,
    needs: 'no arguments',
    positionals: 0,
    options: {},
  });
  if (typeof parsed === 'number') return parsed;
  return withServer(parsed.values, async (client) => {
    const workspaces = await listWorkspaces(client);
    process.stdout.write(`Workspaces on ${client.description}:\n`);
    for (const ws of workspaces) process.stdout.write(`${describeWorkspace(ws)}\n`);
    if (workspaces.length === 0)
      process.stdout.write('No workspaces yet: create one with `nixspace up URL`.\n');
    return 0;
  });
}

export async function runSwitch(args: string[]): Promise<number> {
  const parsed = parseCommand(args, {
    name: 'switch',
    usage,
    needs: 'a workspace and a ref',
    positionals: 2,
    options: { stash: { type: 'boolean' }, carry: { type: 'boolean' }, 'cancel-jobs': { type: 'boolean' } },
  });
  if (typeof parsed === 'number') return parsed;
  const { values } = parsed;
  const [target, ref] = parsed.positionals as [string, string];
  if (values.stash && values.carry) {
    process.stderr.write('choose one of --stash and --carry\n');
    return 2;
  }
  const uncommitted = values.stash ? 'stash' : values.carry ? 'carry' : 'refuse';
  return withServer(values, async (client) => {
    const { id } = await resolveWorkspace(client, target);
    const started = await client.call<
      Workspace & { switched: { stash: string | null; note: string | null } }
    >('POST', `/api/workspaces/${id}/switch`, {
      ref,
      uncommitted,
      jobs: values['cancel-jobs'] ? 'cancel' : 'refuse',
    });
    process.stdout.write(`Switching ${started.name} to ${ref}\n`);
    if (started.switched.stash)
      process.stdout.write(`  uncommitted changes stashed: ${started.switched.stash}\n`);
    if (started.switched.note) process.stdout.write(`  ${started.switched.note}\n`);
    const ws = await followProgress(client, id, ['switching']);
    if (ws.status === 'running') {
      process.stdout.write(`${ws.name} is running at ${checkedOut(ws)}\n`);
      return 0;
    }
    process.stderr.write(`the switch did not finish: ${ws.error?.message ?? ws.status}\n`);
    return 1;
  });
}
