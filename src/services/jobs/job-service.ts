// Jobs: a command run in a workspace sandbox (through a pipe or a PTY) or on an SSH host, its
// output followed live and kept. Nothing is written until the command has started, so a refused
// job leaves no row; a job's row always ends in a final status, and `lost` after a crash.

import type { Logger } from 'pino';
import { NixSpaceError } from '../../errors.js';
import {
  findJob,
  finishJob,
  insertJob,
  insertJobEvents,
  listJobs,
  markRunningJobsLost,
  pruneJobEvents,
  readJobEvents,
  setJobResume,
  takeRunningJobs,
} from '../../store/job-queries.js';
import type { JobRow } from '../../store/schema.js';
import type { Store } from '../../store/store.js';
import type {
  JobPage,
  JobStatus,
  JobType,
  Job as JobView,
  JobLogEvent as WireEvent,
} from '../../wire/jobs.js';
import type { User } from '../access/access-service.js';
import type { WorkspaceActivity } from '../workspaces/idle-tracker.js';
import type { WorkspaceService } from '../workspaces/workspace-service.js';
import { type FollowerSink, type FollowSource, type JobDone, JobFollower } from './job-follower.js';
import { JobLog, type JobLogEvent, type JobLogLimits, readStoredEvents } from './job-log.js';
import type { RunningJobs } from './running-jobs.js';
import type { SshHostService } from './ssh-host-service.js';
import { type AgentJobResume, agentJobResume } from './strategies/agent-job.js';
import type { CommandExit, ExecutionStrategy, RunningCommand } from './strategies/execution-strategy.js';
import { LocalStreamStrategy } from './strategies/local-stream-strategy.js';
import { SshStreamStrategy } from './strategies/ssh-stream-strategy.js';
import { TerminalSpawnStrategy } from './strategies/terminal-spawn-strategy.js';

export interface RunJobInput {
  command?: unknown;
  cwd?: unknown;
  strategy?: unknown;
  target?: unknown;
}

export interface JobServiceOptions {
  store: Store;
  workspaces: WorkspaceService;
  /** Where the running jobs are listed for the workspace service (a switch cancels them). */
  running: RunningJobs;
  sshHosts: SshHostService;
  logger: Logger;
  limits: JobLogLimits;
  /** SIGTERM → SIGKILL grace period of a cancel. */
  cancelGraceMs: number;
  /** Connect + handshake timeout of SSH jobs. */
  sshTimeoutMs: number;
  /** Job events older than this are pruned. */
  retentionDays: number;
  /** Told of each workspace job while it runs (a running job keeps its workspace from idling). */
  activity?: WorkspaceActivity;
}

interface ActiveJob {
  row: JobRow;
  log: JobLog;
  run: RunningCommand;
  cancelling: boolean;
  /** Settles once the cancel's signals are done and noted in the log. */
  cancelled: Promise<void> | undefined;
  finished: JobDone | undefined;
  doneListeners: Set<(done: JobDone) => void>;
  ended: Promise<void>;
}

const MAX_COMMAND_LENGTH = 64 * 1024;
const STRATEGIES = ['stream', 'terminal', 'ssh'] as const;

export class JobService {
  private readonly active = new Map<string, ActiveJob>();

  constructor(private readonly options: JobServiceOptions) {}

  /** Starts a job; resolves once the command runs and its row exists. */
  async run(user: User, input: RunJobInput): Promise<JobView> {
    const command = typeof input.command === 'string' ? input.command : '';
    if (command.trim() === '') throw new NixSpaceError('BAD_REQUEST', 'The command is empty');
    if (command.length > MAX_COMMAND_LENGTH) {
      throw new NixSpaceError('BAD_REQUEST', `The command is longer than ${MAX_COMMAND_LENGTH} characters`);
    }
    if (input.cwd !== undefined && input.cwd !== null && typeof input.cwd !== 'string') {
      throw new NixSpaceError('BAD_REQUEST', 'cwd must be a path');
    }
    const cwd = typeof input.cwd === 'string' && input.cwd.trim() !== '' ? input.cwd.trim() : undefined;
    const wanted = input.strategy ?? undefined;
    if (wanted !== undefined && !STRATEGIES.includes(wanted as JobType)) {
      throw new NixSpaceError('BAD_REQUEST', `strategy must be one of ${STRATEGIES.join(', ')}`);
    }
    if (typeof input.target !== 'string' || input.target === '') {
      throw new NixSpaceError('BAD_REQUEST', 'target is required: a workspace id or an SSH host id');
    }
    const target = input.target;
    const { strategy, workspaceId, sshHostId, label } = await this.resolveTarget(
      user,
      target,
      wanted as JobType | undefined,
    );

    const id = crypto.randomUUID();
    const log = new JobLog(id, {
      store: this.options.store,
      limits: this.options.limits,
      logger: this.options.logger,
    });
    const run = await strategy.start({ id, command, cwd }, (stream, data) => log.append(stream, data));
    let row: JobRow;
    try {
      row = await insertJob(this.options.store.db, {
        id,
        command,
        type: strategy.type,
        ownerId: user.id,
        workspaceId,
        sshHostId,
        targetLabel: label,
        cwd: cwd ?? null,
      });
    } catch (error) {
      await run.cancel(0).catch(() => undefined);
      throw error;
    }
    this.track(row, log, run);
    return toJobView(row);
  }

  private track(row: JobRow, log: JobLog, run: RunningCommand): ActiveJob {
    const job: ActiveJob = {
      row,
      log,
      run,
      cancelling: false,
      cancelled: undefined,
      finished: undefined,
      doneListeners: new Set(),
      ended: Promise.resolve(),
    };
    this.active.set(row.id, job);
    this.options.running.add({
      id: row.id,
      workspaceId: row.workspace_id,
      command: row.command,
      cancel: (why) => this.startCancel(job, why, this.options.cancelGraceMs),
      get ended() {
        return job.ended;
      },
    });
    log.startWriting();
    const idle = row.workspace_id ? this.options.activity?.open(row.workspace_id, 'job') : undefined;
    job.ended = run.done.then((exit) => this.end(job, exit)).finally(() => idle?.());
    return job;
  }

  async cancel(user: User, jobId: unknown): Promise<JobView> {
    if (typeof jobId !== 'string' || jobId === '')
      throw new NixSpaceError('BAD_REQUEST', 'jobId is required');
    const row = await this.owned(user, jobId);
    const job = this.active.get(row.id);
    if (row.status !== 'running' || !job) {
      throw new NixSpaceError('JOB_FINISHED', `Job ${row.id} has already finished (${row.status})`);
    }
    this.startCancel(job, `cancel requested by ${user.email}`, this.options.cancelGraceMs);
    await job.ended;
    return toJobView(await this.owned(user, jobId));
  }

  async list(
    user: User,
    query: { limit?: unknown; workspace?: unknown; status?: unknown },
  ): Promise<JobView[]> {
    const limit = query.limit === undefined ? 50 : Number(query.limit);
    if (!Number.isInteger(limit) || limit < 1 || limit > 500) {
      throw new NixSpaceError('BAD_REQUEST', 'limit must be a whole number from 1 to 500');
    }
    const statuses: JobStatus[] = ['running', 'succeeded', 'failed', 'cancelled', 'lost'];
    if (query.status !== undefined && !statuses.includes(query.status as JobStatus)) {
      throw new NixSpaceError('BAD_REQUEST', `status must be one of ${statuses.join(', ')}`);
    }
    if (query.workspace !== undefined && (typeof query.workspace !== 'string' || !isUuid(query.workspace))) {
      throw new NixSpaceError('BAD_REQUEST', 'workspace must be a workspace id');
    }
    const rows = await listJobs(this.options.store.db, {
      ownerId: user.id,
      limit,
      ...(query.workspace ? { workspaceId: query.workspace as string } : {}),
      ...(query.status ? { status: query.status as JobStatus } : {}),
    });
    return rows.map(toJobView);
  }

  /** A job with its output from an offset (a page of it; `nextOffset` continues). */
  async get(user: User, jobId: string, query: { from?: unknown; maxBytes?: unknown }): Promise<JobPage> {
    const from = query.from === undefined ? 0 : Number(query.from);
    if (!Number.isInteger(from) || from < 0)
      throw new NixSpaceError('BAD_REQUEST', 'from must be a byte offset');
    const maxBytes = Math.min(4 * 1024 * 1024, Math.max(1024, Number(query.maxBytes ?? 1024 * 1024) || 0));
    const row = await this.owned(user, jobId);
    const job = this.active.get(row.id);
    const events = job
      ? await job.log.readFrom(from, maxBytes)
      : (await readStoredEvents(this.options.store, row.id, from, undefined, maxBytes)).events;
    const last = events.at(-1);
    const nextOffset = last ? last.offset + last.bytes : from;
    const fresh = job ? undefined : await findJob(this.options.store.db, row.id);
    const complete = !job && (events.length === 0 || (await this.isEnd(row.id, nextOffset)));
    return { job: toJobView(fresh ?? row), events: events.map(toWire), nextOffset, complete };
  }

  /** Follows a job's output from an offset: stored output first, then live, then `done`. */
  async follow(user: User, jobId: string, from: number, sink: FollowerSink): Promise<JobFollower> {
    const row = await this.owned(user, jobId);
    return new JobFollower(this.source(row), sink, from);
  }

  /**
   * Jobs left `running` by the last server: those the workspace agent still runs, and whose
   * output that server noted when it stopped, continue (output caught up from where it stood);
   * the others are `lost`. Call once the workspaces are back.
   */
  async reconcile(): Promise<{ lost: string[]; resumed: string[] }> {
    const resumed: string[] = [];
    for (const row of await takeRunningJobs(this.options.store.db)) {
      const resume = agentJobResume.safeParse(row.resume);
      if (!resume.success || row.workspace_id === null) continue;
      const job = await this.resume(row.id, row.workspace_id, row.type, resume.data, row.output_bytes).catch(
        (error: unknown) => {
          this.options.logger.warn({ err: error, job: row.id }, 'could not continue a job');
          return undefined;
        },
      );
      if (job) resumed.push(row.id);
    }
    const reason = 'NixSpace stopped while this job ran; its process is gone';
    const ids = await markRunningJobsLost(this.options.store.db, reason, resumed);
    for (const id of ids) {
      const last = await this.endOffset(id);
      await insertJobEvents(this.options.store.db, id, [
        { stream: 'system', chunk: `[${reason}: status lost]\n`, offset: last, ts: new Date() },
      ]).catch((error: unknown) =>
        this.options.logger.warn({ err: error, job: id }, 'could not note lost job'),
      );
    }
    return { lost: ids, resumed };
  }

  private async resume(
    id: string,
    workspaceId: string,
    type: string,
    resume: AgentJobResume,
    outputBytes: number,
  ): Promise<ActiveJob | undefined> {
    const shell = this.options.workspaces.liveJobShell(workspaceId);
    const row = await findJob(this.options.store.db, id);
    if (!shell || !row) return undefined;
    const strategy = type === 'terminal' ? new TerminalSpawnStrategy(shell) : new LocalStreamStrategy(shell);
    const log = new JobLog(id, {
      store: this.options.store,
      limits: this.options.limits,
      logger: this.options.logger,
      resumeAt: Math.max(outputBytes, await this.endOffset(id)),
    });
    const run = await strategy.resume(resume, (stream, data) => log.append(stream, data));
    if (!run) return undefined;
    log.system('NixSpace restarted; the job ran on: output continues');
    return this.track(row, log, run);
  }

  /** Deletes job output older than the retention period; returns how many events went. */
  prune(now = new Date()): Promise<number> {
    const cutoff = new Date(now.getTime() - this.options.retentionDays * 24 * 60 * 60 * 1000);
    return pruneJobEvents(this.options.store.db, cutoff);
  }

  /**
   * The server is stopping. A job the workspace agent runs goes on: its output so far is stored
   * and where it stood noted, for the next server to continue. Any other (SSH) is cancelled, and
   * waited for.
   */
  async shutdown(): Promise<void> {
    await Promise.allSettled(
      [...this.active.values()].map(async (job) => {
        if (job.run.release && !job.cancelling) {
          const resume = job.run.release();
          this.active.delete(job.row.id);
          this.options.running.remove(job.row.id);
          await job.log.flush();
          await setJobResume(this.options.store.db, job.row.id, resume);
          return;
        }
        this.startCancel(
          job,
          'NixSpace is shutting down: cancelling',
          Math.min(1000, this.options.cancelGraceMs),
        );
        await job.ended;
      }),
    );
  }

  get runningCount(): number {
    return this.active.size;
  }

  private startCancel(job: ActiveJob, why: string, graceMs: number): void {
    if (job.cancelling) return;
    job.cancelling = true;
    job.log.system(why);
    job.cancelled = job.run.cancel(graceMs).then(
      (notes) => {
        for (const note of notes) job.log.system(note);
      },
      (error: unknown) => {
        job.log.system(`cancel failed: ${(error as Error).message}`);
      },
    );
  }

  private async end(job: ActiveJob, exit: CommandExit): Promise<void> {
    const { log } = job;
    await job.cancelled;
    const status: JobStatus = job.cancelling ? 'cancelled' : exit.exitCode === 0 ? 'succeeded' : 'failed';
    const how = exit.signal ? `killed by ${exit.signal}` : `exited with code ${exit.exitCode}`;
    log.system(`${how}; job ${status}`);
    await log
      .finish()
      .catch((error: unknown) =>
        this.options.logger.error({ err: error, job: job.row.id }, 'could not store the end of a job'),
      );
    const done: JobDone = { jobId: job.row.id, status, exitCode: exit.exitCode };
    try {
      await finishJob(this.options.store.db, job.row.id, {
        status,
        exitCode: exit.exitCode,
        reason: exit.signal ? how : null,
        outputBytes: log.end,
        cutBytes: log.cutBytes,
      });
    } catch (error) {
      this.options.logger.error({ err: error, job: job.row.id }, 'could not record the end of a job');
    }
    job.finished = done;
    this.active.delete(job.row.id);
    this.options.running.remove(job.row.id);
    for (const listener of job.doneListeners) listener(done);
  }

  private source(row: JobRow): FollowSource {
    const job = this.active.get(row.id);
    if (job) {
      return {
        end: () => job.log.end,
        readFrom: (from, max) => job.log.readFrom(from, max),
        finished: () => job.finished,
        subscribe: (onEvent, onDone) => {
          const off = job.log.onEvent(onEvent);
          job.doneListeners.add(onDone);
          return () => {
            off();
            job.doneListeners.delete(onDone);
          };
        },
      };
    }
    const done: JobDone = { jobId: row.id, status: row.status, exitCode: row.exit_code };
    return {
      end: () => Number.POSITIVE_INFINITY,
      readFrom: async (from, max) =>
        (await readStoredEvents(this.options.store, row.id, from, undefined, max)).events,
      finished: () => done,
      subscribe: () => () => {},
    };
  }

  private async resolveTarget(
    user: User,
    target: string,
    wanted: JobType | undefined,
  ): Promise<{
    strategy: ExecutionStrategy;
    workspaceId: string | null;
    sshHostId: string | null;
    label: string;
  }> {
    if (await this.options.workspaces.owns(user, target)) {
      if (wanted === 'ssh') {
        throw new NixSpaceError(
          'BAD_REQUEST',
          'The ssh strategy runs on SSH hosts; a workspace runs stream or terminal',
        );
      }
      const { name, shell } = await this.options.workspaces.jobShell(user, target);
      const strategy =
        wanted === 'terminal' ? new TerminalSpawnStrategy(shell) : new LocalStreamStrategy(shell);
      return { strategy, workspaceId: target, sshHostId: null, label: name };
    }
    const host = await this.options.sshHosts.find(user, target);
    if (host) {
      if (wanted !== undefined && wanted !== 'ssh') {
        throw new NixSpaceError('BAD_REQUEST', `An SSH host runs the ssh strategy, not ${wanted}`);
      }
      const strategy = new SshStreamStrategy({
        host: host.host,
        port: host.port,
        username: host.username,
        privateKey: host.private_key,
        knownHosts: host.known_hosts,
        timeoutMs: this.options.sshTimeoutMs,
      });
      return { strategy, workspaceId: null, sshHostId: host.id, label: host.name };
    }
    throw new NixSpaceError('UNKNOWN_TARGET', `No workspace or SSH host has the id ${target}`);
  }

  private async owned(user: User, jobId: string): Promise<JobRow> {
    const row = isUuid(jobId) ? await findJob(this.options.store.db, jobId) : undefined;
    if (!row || row.owner_id !== user.id)
      throw new NixSpaceError('JOB_NOT_FOUND', `Job ${jobId} does not exist`);
    return row;
  }

  private async endOffset(jobId: string): Promise<number> {
    let offset = 0;
    for (;;) {
      const events = await readJobEvents(this.options.store.db, jobId, { fromOffset: offset, limit: 1000 });
      const last = events.at(-1);
      if (!last) return offset;
      offset = last.offset + last.bytes;
    }
  }

  private async isEnd(jobId: string, offset: number): Promise<boolean> {
    const more = await readJobEvents(this.options.store.db, jobId, { fromOffset: offset, limit: 1 });
    return more.length === 0;
  }
}

/** A stored or live event as `job:log` carries it. */
export function toWire(event: JobLogEvent): WireEvent {
  return {
    jobId: event.jobId,
    stream: event.stream,
    chunk: event.chunk,
    ts: new Date(event.ts).toISOString(),
    offset: event.offset,
    ...(event.error ? { error: true, covers: event.bytes } : {}),
  };
}

export function toJobView(row: JobRow): JobView {
  return {
    id: row.id,
    command: row.command,
    type: row.type,
    status: row.status,
    startedAt: row.started_at.toISOString(),
    finishedAt: row.finished_at ? row.finished_at.toISOString() : null,
    exitCode: row.exit_code,
    target: row.workspace_id
      ? { kind: 'workspace', id: row.workspace_id, label: row.target_label }
      : { kind: 'ssh', id: row.ssh_host_id, label: row.target_label },
    cwd: row.cwd,
    reason: row.reason,
    outputBytes: Number(row.output_bytes),
    cutBytes: Number(row.cut_bytes),
  };
}

function isUuid(value: string): boolean {
  return /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(value);
}
