// Jobs, SSH hosts and suggested jobs over REST; the live output goes through Socket.IO.
import { request } from './client';

export type JobStatus = 'running' | 'succeeded' | 'failed' | 'cancelled' | 'lost';
export type JobType = 'stream' | 'terminal' | 'ssh';
export type JobStream = 'stdout' | 'stderr' | 'system';

export interface Job {
  id: string;
  command: string;
  type: JobType;
  status: JobStatus;
  startedAt: string;
  finishedAt: string | null;
  exitCode: number | null;
  target: { kind: 'workspace' | 'ssh'; id: string | null; label: string };
  cwd: string | null;
  reason: string | null;
  outputBytes: number;
  cutBytes: number;
}

export interface JobLogEvent {
  jobId: string;
  stream: JobStream;
  chunk: string;
  ts: string;
  offset: number;
  error?: boolean;
}

export interface JobDoneEvent {
  jobId: string;
  status: JobStatus;
  exitCode: number | null;
}

export interface SuggestedJob {
  name: string;
  command: string;
  kind: 'make' | 'npm-script' | 'procfile';
}

export interface SshHost {
  id: string;
  name: string;
  host: string;
  port: number;
  username: string;
  keyFingerprint: string;
  knownHosts: string;
  createdAt: string;
}

export function listJobs(query: { limit: number; workspace?: string }): Promise<Job[]> {
  const params = new URLSearchParams({ limit: String(query.limit) });
  if (query.workspace) params.set('workspace', query.workspace);
  return request<{ jobs: Job[] }>('GET', `/api/jobs?${params}`).then((r) => r.jobs);
}

export function cancelJob(jobId: string): Promise<Job> {
  return request<Job>('POST', '/api/jobs/cancel', { jobId });
}

export function suggestedJobs(workspaceId: string): Promise<SuggestedJob[]> {
  return request<{ jobs: SuggestedJob[] }>(
    'GET',
    `/api/workspaces/${encodeURIComponent(workspaceId)}/suggested-jobs`,
  ).then((r) => r.jobs);
}

export function listSshHosts(): Promise<SshHost[]> {
  return request<{ hosts: SshHost[] }>('GET', '/api/ssh-hosts').then((r) => r.hosts);
}

export function addSshHost(input: {
  name?: string;
  host: string;
  port: number;
  username: string;
  privateKey: string;
  knownHosts: string;
}): Promise<SshHost> {
  return request<SshHost>('POST', '/api/ssh-hosts', input);
}

export function removeSshHost(id: string): Promise<void> {
  return request<void>('DELETE', `/api/ssh-hosts/${encodeURIComponent(id)}`);
}
