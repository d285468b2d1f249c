// `nixspace list` and `nixspace switch`: the owner's workspaces from the command line. The CLI
// signs in as the owner through the running server's admin socket (a one-time link it spends at
// once), talks to the same REST API as the UI, and signs out when done.

import { parseArgs } from 'node:util';
import { requestLoginLink } from '../admin-socket.js';
import { configFromEnv, parseConfig } from '../config.js';

interface Step {
  name: string;
  label: string;
  status: string;
  durationMs: number | null;
  detail: string | null;
}

interface Workspace {
  id: string;
  name: string;
  status: string;
  branch: string | null;
  commit: string | null;
  steps: Step[];
  error: { code: string; message: string; step?: string } | null;
}

interface ApiError {
  code: string;
  message: string;
  detail?: string;
}

class OwnerClient {
  private constructor(
    private readonly base: string,
    private readonly cookie: string,
  ) {}

  static async signIn(dataDir: string): Promise<OwnerClient> {
    const link = await requestLoginLink(dataDir);
    if (!link) {
      throw new Error(
        `no NixSpace server is running with the data directory ${dataDir} (start it with \`nixspace serve\`)`,
      );
    }
    const response = await fetch(link, { redirect: 'manual' });
    const cookie = response.headers.get('set-cookie')?.split(';')[0];
    if (!cookie) throw new Error(`the server refused its own sign-in link (${response.status})`);
    return new OwnerClient(new URL(link).origin, cookie);
  }

  async call<T>(method: string, path: string, body?: unknown): Promise<T> {
    const response = await fetch(`${this.base}${path}`, {
      method,
      headers: {
        cookie: this.cookie,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const parsed = (await response.json().catch(() => undefined)) as unknown;
    if (!response.ok) {
      const error = parsed as ApiError | undefined;
      throw new Error(
        error?.message
          ? `${error.message}${error.detail ? `\n${indent(error.detail)}` : ''}`
          : `the server answered ${response.status}`,
      );
    }
    return parsed as T;
  }

  async signOut(): Promise<void> {
    await fetch(`${this.base}/api/auth/logout`, { method: 'POST', headers: { cookie: this.cookie } }).catch(
      () => {},
    );
  }
}

function indent(text: string): string {
  return text
    .split('\n')
    .map((line) => `  ${line}`)
    .join('\n');
}

const usage = `Usage:
  nixspace list [--data-dir DIR]
  nixspace switch WORKSPACE REF [--stash | --carry] [--cancel-jobs] [--data-dir DIR]

switch moves a running workspace to another branch, tag or commit in place and prints the steps
as they finish. Uncommitted changes stop it, unless --stash (saved in a named git stash) or
--carry (carried over when they apply cleanly). Jobs running in the workspace stop it too,
unless --cancel-jobs. WORKSPACE is an id or a unique id prefix.
`;

function dataDirFrom(flag: string | undefined): string {
  return flag ?? parseConfig(configFromEnv(process.env)).dataDir;
}

async function withOwner<T>(dataDir: string, fn: (client: OwnerClient) => Promise<T>): Promise<T> {
  const client = await OwnerClient.signIn(dataDir);
  try {
    return await fn(client);
  } finally {
    await client.signOut();
  }
}

function where(ws: Workspace): string {
  return `${ws.branch ?? 'detached'} @ ${ws.commit?.slice(0, 12) ?? '?'}`;
}

export async function runList(args: string[]): Promise<number> {
  const { values } = parseArgs({ args, options: { 'data-dir': { type: 'string' } }, strict: true });
  return withOwner(dataDirFrom(values['data-dir']), async (client) => {
    const { workspaces } = await client.call<{ workspaces: Workspace[] }>('GET', '/api/workspaces');
    for (const ws of workspaces.filter((w) => w.status !== 'deleted')) {
      process.stdout.write(`${ws.id}  ${ws.status.padEnd(9)}  ${ws.name}  ${where(ws)}\n`);
    }
    if (workspaces.length === 0) process.stdout.write('No workspaces yet.\n');
    return 0;
  });
}

export async function runSwitch(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    options: {
      'data-dir': { type: 'string' },
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
  return withOwner(dataDirFrom(values['data-dir']), async (client) => {
    const id = await resolveWorkspaceId(client, target);
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
    const printed = new Set<string>();
    for (;;) {
      const ws = await client.call<Workspace>('GET', `/api/workspaces/${id}`);
      for (const step of ws.steps) {
        if (printed.has(step.name) || !['done', 'skipped', 'failed'].includes(step.status)) continue;
        printed.add(step.name);
        const time = step.durationMs === null ? '' : `${step.durationMs} ms`;
        const mark = step.status === 'done' ? '✓' : step.status === 'skipped' ? '-' : '✗';
        process.stdout.write(
          `  ${mark} ${step.label.padEnd(22)} ${time.padStart(8)}${step.detail ? `  ${step.detail}` : ''}\n`,
        );
      }
      if (ws.status === 'running') {
        process.stdout.write(`${ws.name} is running at ${where(ws)}\n`);
        return 0;
      }
      if (ws.status !== 'switching') {
        process.stderr.write(`the switch did not finish: ${ws.error?.message ?? ws.status}\n`);
        return 1;
      }
      await new Promise((resolve) => setTimeout(resolve, 150));
    }
  });
}

async function resolveWorkspaceId(client: OwnerClient, target: string): Promise<string> {
  const { workspaces } = await client.call<{ workspaces: Workspace[] }>('GET', '/api/workspaces');
  const matches = workspaces.filter((ws) => ws.status !== 'deleted' && ws.id.startsWith(target));
  if (matches.length === 1) return matches[0]!.id;
  throw new Error(
    matches.length === 0
      ? `no workspace ${target} (see \`nixspace list\`)`
      : `${target} matches ${matches.length} workspaces: give more of the id`,
  );
}
