// The jobs running now, as the services other than the job service see them: the job service adds
// each job as it starts and removes it once its end is recorded; a workspace switch asks which
// run in the workspace, and cancels them. Made before either service, and given to both.

import type { WorkspaceJobs } from '../workspaces/workspace-options.js';

export interface RunningJob {
  readonly id: string;
  readonly workspaceId: string | null;
  readonly command: string;
  /** Starts cancelling the job (its signals, its grace period); `ended` tells when it is over. */
  cancel(why: string): void;
  /** Settles once the job has ended and its end is recorded. */
  readonly ended: Promise<void>;
}

export class RunningJobs implements WorkspaceJobs {
  private readonly jobs = new Map<string, RunningJob>();

  add(job: RunningJob): void {
    this.jobs.set(job.id, job);
  }

  remove(id: string): void {
    this.jobs.delete(id);
  }

  /** The jobs running in a workspace now, oldest first. */
  runningIn(workspaceId: string): { id: string; command: string }[] {
    return this.in(workspaceId).map((job) => ({ id: job.id, command: job.command }));
  }

  /** Cancels every job running in a workspace (it is about to switch) and waits until each ended. */
  async cancelIn(workspaceId: string, why: string): Promise<void> {
    const jobs = this.in(workspaceId);
    for (const job of jobs) job.cancel(why);
    await Promise.allSettled(jobs.map((job) => job.ended));
  }

  private in(workspaceId: string): RunningJob[] {
    return [...this.jobs.values()].filter((job) => job.workspaceId === workspaceId);
  }
}
