// `nixspace list` and `nixspace switch`: the owner's workspaces from the command line.

import { parseArgs } from 'node:util';
import { followProgress } from './progress.js';
import { serverOptions, withServer } from './server-client.js';
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
--carry (brought along when they apply cleanly). Jobs running in the workspace stop it too,
unless --cancel-jobs. WORKSPACE is an id, a unique id prefix or a name.
`;

export async function runList(args: string[]): Promise<number> {
  const { values } = parseArgs({ args, options: serverOptions, strict: true });
  return withServer(values, async (client) => {
    const workspaces = await listWorkspaces(client);
    process.stdout.write(`Workspaces on ${client.description}:\n`);
    for (const ws of workspaces) process.stdout.write(`${describeWorkspace(ws)}\n`);
    if (workspaces.length === 0)
      process.stdout.write('No workspaces yet: create one with `nixspace up URL`.\n');
    return 0;
  });
}

export async function runSwitch(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    options: {
      ...serverOptions,
      stash: { type: 'boolean' },
      carry: { type: 'boolean' },
      'cancel-jobs': { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
    allowPositionals: true,
    strict: true,
  });
  if (values.help) {
    process.stdout.write(usage);
    return 0;
  }
  const [target, ref] = positionals;
  if (positionals.length !== 2 || !target || !ref) {
    process.stderr.write(`nixspace switch needs a workspace and a ref\n\n${usage}`);
    return 2;
  }
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
