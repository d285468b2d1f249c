// The last jobs, newest first: refreshed by hand or every 30 seconds, a row opens its output.

import type { Job } from '@wire/jobs';
import { createSignal, For, onCleanup, Show } from 'solid-js';
import { listJobs } from '../../api/jobs';
import { errorMessage } from '../../lib/error-message';
import { JobStatusBadge } from './job-status-badge';

const POLL_MS = 30_000;

export function createJobHistory(query: () => { limit: number; workspace?: string }) {
  const [jobs, setJobs] = createSignal<Job[]>([]);
  const [loading, setLoading] = createSignal(false);
  const [error, setError] = createSignal<string | null>(null);
  const refresh = async () => {
    setLoading(true);
    try {
      setJobs(await listJobs(query()));
      setError(null);
    } catch (e) {
      setError(errorMessage(e));
    } finally {
      setLoading(false);
    }
  };
  void refresh();
  const timer = window.setInterval(() => void refresh(), POLL_MS);
  onCleanup(() => window.clearInterval(timer));
  return { jobs, loading, error, refresh };
}

export function JobHistory(props: {
  history: ReturnType<typeof createJobHistory>;
  selected: string | undefined;
  onSelect(job: Job): void;
}) {
  return (
    <section class="job-history" aria-label="Job history" data-testid="job-history">
      <div class="job-history-head">
        <h2>History</h2>
        <button
          type="button"
          class="button button-small"
          onClick={() => void props.history.refresh()}
          disabled={props.history.loading()}
          data-testid="job-history-refresh"
        >
          Refresh
        </button>
      </div>
      <Show when={props.history.error()}>{(message) => <p class="field-error">{message()}</p>}</Show>
      <Show when={props.history.jobs().length > 0} fallback={<p class="muted">No jobs yet.</p>}>
        <ul class="job-history-list">
          <For each={props.history.jobs()}>
            {(job) => (
              <li>
                <button
                  type="button"
                  class="job-history-row"
                  aria-current={props.selected === job.id ? 'true' : undefined}
                  onClick={() => props.onSelect(job)}
                  data-testid="job-history-row"
                >
                  <JobStatusBadge status={job.status} exitCode={job.exitCode} />
                  <code class="job-history-command">{job.command}</code>
                  <span class="muted job-history-meta">
                    {job.target.label} · {new Date(job.startedAt).toLocaleTimeString()}
                  </span>
                </button>
              </li>
            )}
          </For>
        </ul>
      </Show>
    </section>
  );
}
