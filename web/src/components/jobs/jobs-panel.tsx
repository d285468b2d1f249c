// The job cockpit: command panel, the selected job's live log, and the history. Used in the
// workspace view (target: the workspace) and on the jobs page (targets: SSH hosts).

import type { ExecuteCommandInput, Job, JobStatus } from '@wire/jobs';
import { createEffect, createMemo, createResource, createSignal, Show } from 'solid-js';
import { cancelJob, suggestedJobs } from '../../api/jobs';
import type { ErrorBody } from '../../api/types';
import { createJobStream } from '../../primitives/create-job-stream';
import { Callout } from '../callout';
import { CommandPanel, type JobTarget } from './command-panel';
import { createJobHistory, JobHistory } from './job-history';
import { JobStatusBadge } from './job-status-badge';
import { LogViewer } from './log-viewer';

function bodyMessage(error: unknown): string {
  if (typeof error === 'object' && error !== null && 'message' in error) {
    return String((error as ErrorBody).message);
  }
  return 'Something went wrong';
}

export function JobsPanel(props: { targets: readonly JobTarget[]; workspaceId?: string; id?: string }) {
  const stream = createJobStream();
  const history = createJobHistory(() => ({
    limit: 30,
    ...(props.workspaceId ? { workspace: props.workspaceId } : {}),
  }));
  const [suggestions] = createResource(
    () => props.workspaceId,
    (id) => suggestedJobs(id).catch(() => []),
  );
  const [selected, setSelected] = createSignal<Job | undefined>();
  const [problem, setProblem] = createSignal<string | null>(null);
  const [starting, setStarting] = createSignal(false);

  const output = () => {
    stream.version();
    const job = selected();
    return job ? stream.output(job.id) : undefined;
  };
  const status = createMemo<JobStatus | undefined>(() => output()?.done?.status ?? selected()?.status);
  const running = () => starting() || status() === 'running';
  const lines = () => output()?.lines ?? [];

  let lastDone: string | undefined;
  createEffect(() => {
    const done = output()?.done;
    if (done && done.jobId !== lastDone) {
      lastDone = done.jobId;
      void history.refresh();
    }
  });

  const run = async (input: ExecuteCommandInput) => {
    setProblem(null);
    setStarting(true);
    try {
      const job = await stream.execute(input);
      setSelected(job);
      void history.refresh();
    } catch (error) {
      setProblem(bodyMessage(error));
    } finally {
      setStarting(false);
    }
  };

  const cancel = async () => {
    const job = selected();
    if (!job) return;
    try {
      await cancelJob(job.id);
    } catch (error) {
      setProblem(bodyMessage(error));
    }
  };

  const open = (job: Job) => {
    setSelected(job);
    stream.follow(job.id);
  };

  return (
    <section class="jobs-panel" id={props.id} aria-label="Jobs" data-testid="jobs-panel">
      <CommandPanel
        targets={props.targets}
        suggestions={suggestions() ?? []}
        running={running()}
        onRun={(input) => void run(input)}
        onCancel={() => void cancel()}
      />
      <Show when={problem() ?? stream.error()?.message}>
        {(message) => (
          <Callout
            tone="error"
            title={message()}
            onDismiss={() => {
              setProblem(null);
              stream.clearError();
            }}
          />
        )}
      </Show>
      <Show when={selected()}>
        {(job) => (
          <div class="jobs-current">
            <div class="jobs-current-head">
              <JobStatusBadge
                status={status() ?? job().status}
                exitCode={output()?.done?.exitCode ?? job().exitCode}
                testId="job-status"
              />
              <code class="job-history-command">{job().command}</code>
            </div>
            <LogViewer lines={lines} version={stream.version} label={`Output of ${job().command}`} />
          </div>
        )}
      </Show>
      <JobHistory history={history} selected={selected()?.id} onSelect={open} />
    </section>
  );
}
