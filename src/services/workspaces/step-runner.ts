// The steps of a pipeline (create, branch, switch): each is recorded with its status, timing and
// result as it runs, and streamed to subscribers. One failure and cancel path serves them all: the
// running step is marked failed, what the pipeline started is cleared, and the reason is recorded
// (or, if even that cannot be written, logged).

import type { Logger } from 'pino';
import { NixSpaceError, toErrorBody } from '../../errors.js';
import type { StepName, StepRecord, WorkspaceStatus } from '../../store/schema.js';
import type { WorkspacePatch } from '../../store/workspace-queries.js';
import type { WorkspaceRecords } from './workspace-records.js';

/** What a step's work returns: `failed` here is a problem the workspace runs with (usable for fixing). */
export interface StepResult<T> {
  value: T;
  detail: string | null;
  status?: 'done' | 'skipped' | 'failed';
  log?: string[];
  patch?: WorkspacePatch;
}

/** What a pipeline that failed or was cancelled leaves. */
export interface FailurePolicy {
  /** The pipeline, as logs name it: `creation`, `switch`. */
  what: string;
  /** The status the workspace is left in (a failed creation is `failed`, a failed switch `stopped`). */
  status: WorkspaceStatus;
  /** Clears what the pipeline started (its sandbox, a creation's files) before the reason is recorded. */
  cleanup(): Promise<void>;
}

export class StepRunner {
  constructor(
    private readonly records: WorkspaceRecords,
    private readonly logger: Logger,
    readonly id: string,
    readonly steps: StepRecord[],
    readonly signal: AbortSignal,
  ) {}

  /** Runs `body`; when it fails or the pipeline is cancelled, ends as `failure` says. */
  async pipeline(body: () => Promise<void>, failure: FailurePolicy): Promise<void> {
    try {
      await body();
    } catch (caught) {
      await this.fail(caught, failure);
    }
  }

  /** Runs one step with the workspace in `status`, recording it before and after. */
  async run<T>(name: StepName, status: WorkspaceStatus, fn: () => Promise<StepResult<T>>): Promise<T> {
    this.signal.throwIfAborted();
    const step = this.step(name);
    const started = performance.now();
    step.status = 'running';
    step.startedAt = new Date().toISOString();
    await this.records.save(this.id, { status, steps: this.steps });
    const result = await fn();
    step.status = result.status ?? 'done';
    step.finishedAt = new Date().toISOString();
    step.durationMs = Math.round(performance.now() - started);
    step.detail = result.detail;
    if (result.log?.length) step.log = result.log;
    await this.records.save(this.id, { steps: this.steps, ...result.patch });
    return result.value;
  }

  private step(name: StepName): StepRecord {
    const step = this.steps.find((s) => s.name === name);
    if (!step) throw new NixSpaceError('INTERNAL', `The pipeline has no ${name} step`);
    return step;
  }

  private async fail(caught: unknown, failure: FailurePolicy): Promise<void> {
    const error = this.signal.aborted ? this.signal.reason : caught;
    const step = this.steps.find((s) => s.status === 'running');
    if (step) {
      step.status = 'failed';
      step.finishedAt = new Date().toISOString();
      step.durationMs = step.startedAt ? Date.now() - Date.parse(step.startedAt) : null;
    }
    if (!(error instanceof NixSpaceError)) {
      this.logger.error(
        { err: error, workspace: this.id, step: step?.name },
        `workspace ${failure.what} failed`,
      );
    }
    await failure
      .cleanup()
      .catch((cleanupError: unknown) =>
        this.logger.error(
          { err: cleanupError, workspace: this.id },
          `could not clear what the failed ${failure.what} left`,
        ),
      );
    const body = toErrorBody(error);
    const reason = step ? { ...body, step: step.name } : body;
    await this.records
      .save(this.id, { status: failure.status, steps: this.steps, error: reason })
      .catch((saveError: unknown) =>
        this.logger.error(
          { err: saveError, workspace: this.id, failure: reason },
          `could not record the failed ${failure.what}`,
        ),
      );
  }
}

/**
 * Runs a step without recording it yet, noting its timing and result in `steps` (the git part of
 * a switch: nothing is stored until its checkout succeeded).
 */
export async function timeStep<T>(
  steps: StepRecord[],
  name: StepName,
  fn: () => Promise<{ value: T; detail: string }>,
): Promise<T> {
  const step = steps.find((st) => st.name === name)!;
  const started = performance.now();
  step.startedAt = new Date().toISOString();
  const { value, detail } = await fn();
  step.status = 'done';
  step.finishedAt = new Date().toISOString();
  step.durationMs = Math.round(performance.now() - started);
  step.detail = detail;
  return value;
}
