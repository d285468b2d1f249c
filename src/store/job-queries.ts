// Queries for jobs and their output events.

import { type Kysely, sql } from 'kysely';
import type { JobStatus, JobStream, JobType } from '../wire/jobs.js';
import type { Database, JobRow } from './schema.js';

type Db = Kysely<Database>;

export interface NewJob {
  id: string;
  command: string;
  type: JobType;
  ownerId: string;
  workspaceId: string | null;
  sshHostId: string | null;
  targetLabel: string;
  cwd: string | null;
}

export interface StoredEvent {
  stream: JobStream;
  chunk: string;
  offset: number;
  ts: Date;
  error: boolean;
  /** Bytes of the output this event occupies: its chunk's length, or what an error event stands for. */
  bytes: number;
}

export async function insertJob(db: Db, job: NewJob): Promise<JobRow> {
  return db
    .insertInto('jobs')
    .values({
      id: job.id,
      command: job.command,
      type: job.type,
      status: 'running',
      owner_id: job.ownerId,
      workspace_id: job.workspaceId,
      ssh_host_id: job.sshHostId,
      target_label: job.targetLabel,
      cwd: job.cwd,
      exit_code: null,
      reason: null,
    })
    .returningAll()
    .executeTakeFirstOrThrow();
}

export async function finishJob(
  db: Db,
  id: string,
  end: {
    status: Exclude<JobStatus, 'running'>;
    exitCode: number | null;
    reason: string | null;
    outputBytes: number;
    cutBytes: number;
  },
): Promise<JobRow | undefined> {
  return db
    .updateTable('jobs')
    .set({
      status: end.status,
      exit_code: end.exitCode,
      reason: end.reason,
      finished_at: new Date(),
      output_bytes: end.outputBytes,
      cut_bytes: end.cutBytes,
    })
    .where('id', '=', id)
    .where('status', '=', 'running')
    .returningAll()
    .executeTakeFirst();
}

export async function findJob(db: Db, id: string): Promise<JobRow | undefined> {
  return db.selectFrom('jobs').selectAll().where('id', '=', id).executeTakeFirst();
}

export async function listJobs(
  db: Db,
  filter: { ownerId: string; limit: number; workspaceId?: string; status?: JobStatus },
): Promise<JobRow[]> {
  let query = db.selectFrom('jobs').selectAll().where('owner_id', '=', filter.ownerId);
  if (filter.workspaceId) query = query.where('workspace_id', '=', filter.workspaceId);
  if (filter.status) query = query.where('status', '=', filter.status);
  return query.orderBy('started_at', 'desc').orderBy('id').limit(filter.limit).execute();
}

/** Marks every job still `running` as lost: no process of this server runs them any more. */
/** Notes where a running job's output stood (null: nothing to continue from). */
export async function setJobResume(db: Db, id: string, resume: unknown): Promise<void> {
  await db
    .updateTable('jobs')
    .set({ resume: resume === null ? null : JSON.stringify(resume) })
    .where('id', '=', id)
    .execute();
}

/** Jobs left running, with where each stood; the marks are taken (a second start finds none). */
export async function takeRunningJobs(
  db: Db,
): Promise<
  { id: string; workspace_id: string | null; type: string; resume: unknown; output_bytes: number }[]
> {
  const rows = await db
    .selectFrom('jobs')
    .select(['id', 'workspace_id', 'type', 'resume', 'output_bytes'])
    .where('status', '=', 'running')
    .execute();
  await db.updateTable('jobs').set({ resume: null }).where('status', '=', 'running').execute();
  return rows.map((row) => ({ ...row, output_bytes: Number(row.output_bytes) }));
}

export async function markRunningJobsLost(
  db: Db,
  reason: string,
  except: readonly string[] = [],
): Promise<string[]> {
  let query = db
    .updateTable('jobs')
    .set({ status: 'lost', finished_at: new Date(), reason })
    .where('status', '=', 'running');
  if (except.length > 0) query = query.where('id', 'not in', except);
  const rows = await query.returning('id').execute();
  return rows.map((r) => r.id);
}

export async function insertJobEvents(
  db: Db,
  jobId: string,
  events: readonly {
    stream: JobStream;
    chunk: string;
    offset: number;
    ts: Date;
    error?: boolean;
    /** An error event: the bytes of output it stands for. */
    covers?: number;
  }[],
): Promise<void> {
  if (events.length === 0) return;
  await db
    .insertInto('job_events')
    .values(
      events.map((e) => ({
        job_id: jobId,
        stream: e.stream,
        chunk: e.chunk,
        byte_offset: e.offset,
        ts: e.ts,
        error: e.error ?? false,
        covers: e.covers ?? null,
      })),
    )
    .execute();
}

/** Events whose chunk ends after `fromOffset`, in order, up to about `maxBytes` of chunks. */
export async function readJobEvents(
  db: Db,
  jobId: string,
  range: { fromOffset: number; beforeOffset?: number; limit: number },
): Promise<StoredEvent[]> {
  let query = db
    .selectFrom('job_events')
    .select(['stream', 'chunk', 'byte_offset', 'ts', 'error', 'covers'])
    .where('job_id', '=', jobId)
    .where(sql<boolean>`byte_offset + coalesce(covers, octet_length(chunk)) > ${range.fromOffset}`);
  if (range.beforeOffset !== undefined) query = query.where('byte_offset', '<', range.beforeOffset);
  const rows = await query.orderBy('byte_offset').limit(range.limit).execute();
  return rows.map((r) => ({
    stream: r.stream,
    chunk: r.chunk,
    offset: Number(r.byte_offset),
    ts: r.ts,
    error: r.error,
    bytes: r.covers === null ? Buffer.byteLength(r.chunk) : Number(r.covers),
  }));
}

/**
 * Drops stored output lying wholly between two offsets (the middle of a job that exceeded its size
 * limit); a chunk reaching past `to` stays.
 */
export async function deleteJobEventsBetween(db: Db, jobId: string, from: number, to: number): Promise<void> {
  await db
    .deleteFrom('job_events')
    .where('job_id', '=', jobId)
    .where('byte_offset', '>=', from)
    .where(sql<boolean>`byte_offset + octet_length(chunk) <= ${to}`)
    .where('error', '=', false)
    .execute();
}

export async function pruneJobEvents(db: Db, olderThan: Date): Promise<number> {
  const result = await db.deleteFrom('job_events').where('ts', '<', olderThan).executeTakeFirst();
  return Number(result.numDeletedRows ?? 0);
}

export async function insertSshHost(
  db: Db,
  host: {
    id: string;
    ownerId: string;
    name: string;
    host: string;
    port: number;
    username: string;
    privateKey: string;
    knownHosts: string;
  },
) {
  return db
    .insertInto('ssh_hosts')
    .values({
      id: host.id,
      owner_id: host.ownerId,
      name: host.name,
      host: host.host,
      port: host.port,
      username: host.username,
      private_key: host.privateKey,
      known_hosts: host.knownHosts,
    })
    .returningAll()
    .executeTakeFirstOrThrow();
}

export async function findSshHost(db: Db, id: string) {
  return db.selectFrom('ssh_hosts').selectAll().where('id', '=', id).executeTakeFirst();
}

export async function listSshHosts(db: Db, ownerId: string) {
  return db
    .selectFrom('ssh_hosts')
    .selectAll()
    .where('owner_id', '=', ownerId)
    .orderBy('created_at')
    .execute();
}

export async function deleteSshHost(db: Db, id: string): Promise<void> {
  await db.deleteFrom('ssh_hosts').where('id', '=', id).execute();
}
