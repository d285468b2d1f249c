// `nixspace logs WORKSPACE [--job JOB]`: how the workspace was made (its steps with timings, the
// log of a failed step, its error; followed live while it is still being made) and its latest
// jobs; with --job, that job's output as stored (stdout here, the job's status on stderr).

import type { Job, JobPage } from '../wire/jobs.js';
import { parseCommand } from './command-args.js';
import { creating, followProgress, formatStep, StepPrinter } from './progress.js';
import { type ServerClient, withServer } from './server-client.js';
import { checkedOut, resolveWorkspace, type Workspace } from './workspace-target.js';

export const logsUsage = `Usage: nixspace logs WORKSPACE [--job JOB] [--jobs N] [--server URL | --data-dir DIR]

Prints how the workspace was made (each step with its timing, the log of a step that failed,
the error), following it live while it is still being made, and its latest N jobs (default 5).
--job prints a job's output: JOB is a job id, a unique prefix of one, or "latest".
`;

export async function runLogs(args: string[]): Promise<number> {
  const parsed = parseCommand(args, {
    name: 'logs',
    usage: logsUsage,
    needs: 'one workspace',
    positionals: 1,
    options: { job: { type: 'string' }, jobs: { type: 'string' } },
  });
  if (typeof parsed === 'number') return parsed;
  const { values } = parsed;
  const target = parsed.positionals[0]!;
  const limit = Number(values.jobs ?? 5);
  if (!Number.isInteger(limit) || limit < 1 || limit > 500) {
    process.stderr.write('--jobs must be a whole number from 1 to 500\n');
    return 2;
  }
  return withServer(values, async (client) => {
    const ws = await resolveWorkspace(client, target);
    if (values.job) return printJob(client, ws, values.job);
    await printCreation(client, ws);
    await printJobList(client, ws, limit);
    return 0;
  });
}

async function printCreation(client: ServerClient, ws: Workspace): Promise<void> {
  process.stdout.write(`${ws.name} (${ws.id}) from ${ws.repoUrl}${ws.ref ? ` at ${ws.ref}` : ''}\n`);
  let settled = ws;
  if (creating.includes(ws.status) || ws.status === 'switching') {
    // Still on its way: the stream gives what happened so far and the rest as it happens.
    settled = await followProgress(client, ws.id, [...creating, 'switching'], new StepPrinter());
  } else {
    for (const step of ws.steps) {
      process.stdout.write(`${formatStep(step)}\n`);
      if (step.log?.length) process.stdout.write(`${step.log.map((line) => `      │ ${line}`).join('\n')}\n`);
    }
  }
  if (settled.error) process.stdout.write(`Error ${settled.error.code}: ${settled.error.message}\n`);
  process.stdout.write(`Now ${settled.status}${settled.commit ? ` at ${checkedOut(settled)}` : ''}\n`);
}

function jobLine(job: Job): string {
  const exit = job.exitCode === null ? '' : ` (exit ${job.exitCode})`;
  return `  ${job.id}  ${`${job.status}${exit}`.padEnd(18)}  ${job.startedAt}  ${job.command}`;
}

async function workspaceJobs(client: ServerClient, ws: Workspace, limit: number): Promise<Job[]> {
  const { jobs } = await client.call<{ jobs: Job[] }>(
    'GET',
    `/api/jobs?workspace=${encodeURIComponent(ws.id)}&limit=${limit}`,
  );
  return jobs;
}

async function printJobList(client: ServerClient, ws: Workspace, limit: number): Promise<void> {
  const jobs = await workspaceJobs(client, ws, limit);
  if (jobs.length === 0) {
    process.stdout.write('No jobs yet.\n');
    return;
  }
  process.stdout.write(`Latest jobs (newest first; \`nixspace logs ${ws.name} --job JOB\` prints one):\n`);
  for (const job of jobs) process.stdout.write(`${jobLine(job)}\n`);
}

async function printJob(client: ServerClient, ws: Workspace, wanted: string): Promise<number> {
  const jobs = await workspaceJobs(client, ws, 500);
  const matches = wanted === 'latest' ? jobs.slice(0, 1) : jobs.filter((job) => job.id.startsWith(wanted));
  if (matches.length !== 1) {
    throw new Error(
      matches.length === 0
        ? `no job ${wanted} in ${ws.name} (see \`nixspace logs ${ws.name}\`)`
        : `${wanted} matches ${matches.length} jobs: give more of the id\n${matches.map(jobLine).join('\n')}`,
    );
  }
  const id = matches[0]!.id;
  let from = 0;
  let job = matches[0]!;
  for (;;) {
    const page = await client.call<JobPage>('GET', `/api/jobs/${id}?from=${from}`);
    job = page.job;
    for (const event of page.events) {
      process.stdout.write(event.stream === 'system' ? event.chunk.replace(/^(?=.)/gm, '› ') : event.chunk);
    }
    if (page.complete || page.events.length === 0) break;
    from = page.nextOffset;
  }
  process.stderr.write(`${jobLine(job).trim()}\n`);
  return 0;
}
