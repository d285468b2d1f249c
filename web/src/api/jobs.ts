// Jobs, SSH hosts and suggested jobs over REST; the live output goes through Socket.IO.
import type { Job, SshHost, SuggestedJob } from '@wire/jobs';
import { request } from './client';

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
