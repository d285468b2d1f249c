// Workspaces: from a Git URL to a running sandbox, as a persisted state machine
// (pending → fetching → building → starting → running ⇄ stopped; failed; deleted).
// Every step is recorded with its timing and streamed to subscribers as it happens.

import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { NixSpaceError, toErrorBody } from '../../errors.js';
import type { GitMirrors } from '../../git/mirrors.js';
import { parseRepoUrl } from '../../git/repo-url.js';
import type { RepoUrl, ResolvedRef } from '../../git/source.js';
import { RuntimeSandbox } from '../../runtime/runtime-sandbox.js';
import type { NetworkPolicy, SandboxDriver, SandboxLimits } from '../../runtime/sandbox.js';
import type { StepName, StepRecord, WorkspaceRow, WorkspaceStatus } from '../../store/schema.js';
import type { Store } from '../../store/store.js';
import {
  findWorkspace,
  insertWorkspace,
  listWorkspaces,
  listWorkspacesByStatus,
  updateWorkspace,
  type WorkspacePatch,
} from '../../store/workspace-queries.js';
import type { User } from '../access/access-service.js';
import { WorkspaceTerminals } from './terminals.js';
import { pendingSteps, toWorkspaceView, type WorkspaceView } from './workspace-view.js';

export type WorkspaceEvent =
  | { type: 'workspace'; workspace: WorkspaceView }
  | { type: 'log'; step: StepName; line: string };

export interface WorkspaceServiceOptions {
  store: Store;
  git: GitMirrors;
  driver: SandboxDriver;
  /** Holds one directory per workspace: `<workspacesDir>/<id>/{repo,home}`. */
  workspacesDir: string;
  /** Where the git mirrors live: checkouts read their objects from there, read-only. */
  mirrorsDir: string;
  limits: SandboxLimits;
  network: NetworkPolicy;
  logger: Logger;
}

interface LiveWorkspace {
  sandbox: RuntimeSandbox;
  terminals: WorkspaceTerminals;
  stopping: boolean;
}

interface Pipeline {
  abort: AbortController;
  done: Promise<void>;
}

const CREATING: WorkspaceStatus[] = ['pending', 'fetching', 'building', 'starting'];
const LOG_REPLAY_LINES = 200;
const SHELL_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

export class WorkspaceService {
  private readonly live = new Map<string, LiveWorkspace>();
  private readonly pipelines = new Map<string, Pipeline>();
  private readonly listeners = new Map<string, Set<(event: WorkspaceEvent) => void>>();
  private readonly recentLogs = new Map<string, WorkspaceEvent[]>();
  private readonly locks = new Map<string, Promise<unknown>>();

  constructor(private readonly options: WorkspaceServiceOptions) {}

  get sandboxDriver(): SandboxDriver {
    return this.options.driver;
  }

  /** Validates the source and starts creating the workspace; progress follows as events. */
  async create(
    user: User,
    input: { repoUrl: string; ref?: string | null | undefined },
  ): Promise<WorkspaceView> {
    const repo = parseRepoUrl(input.repoUrl);
    const ref = normaliseRef(input.ref);
    const row = await insertWorkspace(this.options.store.db, {
      id: crypto.randomUUID(),
      ownerId: user.id,
      name: repo.displayName,
      repoUrl: repo.url,
      ref,
      steps: pendingSteps(),
    });
    const abort = new AbortController();
    const done = this.runCreation(row, repo, ref, abort.signal).finally(() => {
      this.pipelines.delete(row.id);
      this.recentLogs.delete(row.id);
    });
    this.pipelines.set(row.id, { abort, done });
    return toWorkspaceView(row);
  }

  async get(user: User, id: string): Promise<WorkspaceView> {
    return toWorkspaceView(await this.owned(user, id));
  }

  async list(user: User): Promise<WorkspaceView[]> {
    return (await listWorkspaces(this.options.store.db, user.id)).map(toWorkspaceView);
  }

  async start(user: User, id: string): Promise<WorkspaceView> {
    await this.owned(user, id);
    return this.locked(id, async () => {
      const row = await this.owned(user, id);
      if (row.status === 'running') return toWorkspaceView(row);
      if (row.status !== 'stopped') {
        throw new NixSpaceError(
          'CONFLICT',
          `Workspace ${row.name} is ${row.status}; only a stopped workspace can start`,
        );
      }
      await this.save(id, { status: 'starting', error: null });
      try {
        await this.startSandbox(row);
        return toWorkspaceView(await this.save(id, { status: 'running' }));
      } catch (error) {
        await this.save(id, { status: 'failed', error: { ...toErrorBody(error), step: 'sandbox' } });
        throw error;
      }
    });
  }

  async stop(user: User, id: string): Promise<WorkspaceView> {
    await this.owned(user, id);
    return this.locked(id, async () => {
      const row = await this.owned(user, id);
      if (row.status === 'stopped') return toWorkspaceView(row);
      if (row.status !== 'running') {
        throw new NixSpaceError(
          'CONFLICT',
          `Workspace ${row.name} is ${row.status}; only a running workspace can stop`,
        );
      }
      await this.stopSandbox(id);
      return toWorkspaceView(await this.save(id, { status: 'stopped' }));
    });
  }

  /** Removes the workspace's sandbox and files; creation in progress is cancelled first. */
  async delete(user: User, id: string): Promise<void> {
    await this.owned(user, id);
    const pipeline = this.pipelines.get(id);
    if (pipeline) {
      pipeline.abort.abort(new NixSpaceError('INTERRUPTED', 'The workspace was deleted while being created'));
      await pipeline.done;
    }
    await this.locked(id, async () => {
      await this.stopSandbox(id);
      await rm(this.workspaceDir(id), { recursive: true, force: true });
      await this.save(id, { status: 'deleted', sandbox: null });
    });
  }

  /** Follows a workspace: the current state first, then every change and step log line. */
  async subscribe(user: User, id: string, listener: (event: WorkspaceEvent) => void): Promise<() => void> {
    const row = await this.owned(user, id);
    listener({ type: 'workspace', workspace: toWorkspaceView(row) });
    for (const event of this.recentLogs.get(id) ?? []) listener(event);
    let set = this.listeners.get(id);
    if (!set) {
      set = new Set();
      this.listeners.set(id, set);
    }
    set.add(listener);
    return () => {
      set.delete(listener);
      if (set.size === 0 && this.listeners.get(id) === set) this.listeners.delete(id);
    };
  }

  /** The terminals of a running workspace. */
  async terminals(user: User, id: string): Promise<WorkspaceTerminals> {
    const row = await this.owned(user, id);
    const live = this.live.get(id);
    if (row.status !== 'running' || !live) {
      throw new NixSpaceError(
        'CONFLICT',
        `Workspace ${row.name} is ${row.status}; start it to open a terminal`,
      );
    }
    return live.terminals;
  }

  /**
   * Brings the store in line with reality after a (re)start: creations that were cut off fail
   * with a reason, and workspaces that were running get their sandbox back.
   */
  async reconcile(): Promise<{ failed: string[]; resumed: string[] }> {
    const rows = await listWorkspacesByStatus(this.options.store.db, [...CREATING, 'running']);
    const failed: string[] = [];
    const resumed: string[] = [];
    for (const row of rows) {
      await this.options.driver.cleanup(row.id);
      if (row.status === 'running') {
        try {
          await this.startSandbox(row);
          resumed.push(row.id);
          continue;
        } catch (error) {
          this.options.logger.error({ err: error, workspace: row.id }, 'could not resume workspace');
          await this.save(row.id, { status: 'failed', error: { ...toErrorBody(error), step: 'sandbox' } });
          failed.push(row.id);
          continue;
        }
      }
      await rm(this.workspaceDir(row.id), { recursive: true, force: true });
      const steps = (row.steps as StepRecord[]).map((step) =>
        step.status === 'running' ? { ...step, status: 'failed' as const } : step,
      );
      await this.save(row.id, {
        status: 'failed',
        steps,
        error: {
          code: 'INTERRUPTED',
          message: `NixSpace stopped while this workspace was ${row.status}; delete it and create it again`,
          ...(steps.find((s) => s.status === 'failed')
            ? { step: steps.find((s) => s.status === 'failed')!.name }
            : {}),
        },
      });
      failed.push(row.id);
    }
    return { failed, resumed };
  }

  /** Stops every sandbox this process runs; running workspaces resume on the next start. */
  async shutdown(): Promise<void> {
    for (const pipeline of this.pipelines.values()) {
      pipeline.abort.abort(new NixSpaceError('INTERRUPTED', 'NixSpace is shutting down'));
    }
    await Promise.allSettled([...this.pipelines.values()].map((p) => p.done));
    await Promise.allSettled([...this.live.keys()].map((id) => this.stopSandbox(id)));
  }

  workspaceDir(id: string): string {
    return join(this.options.workspacesDir, id);
  }

  private async runCreation(
    row: WorkspaceRow,
    repo: RepoUrl,
    ref: string | null,
    signal: AbortSignal,
  ): Promise<void> {
    const id = row.id;
    const steps = pendingSteps();
    const dir = this.workspaceDir(id);
    const run = async <T>(
      name: StepName,
      status: WorkspaceStatus,
      fn: () => Promise<{
        value: T;
        detail: string | null;
        status?: 'done' | 'skipped';
        patch?: WorkspacePatch;
      }>,
    ): Promise<T> => {
      signal.throwIfAborted();
      const step = steps.find((s) => s.name === name)!;
      const started = performance.now();
      step.status = 'running';
      step.startedAt = new Date().toISOString();
      await this.save(id, { status, steps });
      const result = await fn();
      step.status = result.status ?? 'done';
      step.finishedAt = new Date().toISOString();
      step.durationMs = Math.round(performance.now() - started);
      step.detail = result.detail;
      await this.save(id, { steps, ...result.patch });
      return result.value;
    };

    try {
      const resolved: ResolvedRef = await run('resolve', 'fetching', async () => {
        const value = await this.options.git.resolveRef(repo, ref ?? undefined, { signal });
        return { value, detail: `${value.refName ?? 'commit'} → ${value.commit.slice(0, 12)}` };
      });
      await run('fetch', 'fetching', async () => {
        const fetched = await this.options.git.fetch(repo, {
          commit: resolved.commit,
          signal,
          onProgress: (line) => this.log(id, 'fetch', line),
        });
        const commit = fetched.commit ?? resolved.commit;
        resolved.commit = commit;
        return {
          value: undefined,
          detail: `mirror ${formatBytes(fetched.sizeBytes)}`,
          patch: { commitId: commit, branch: resolved.branch ?? null },
        };
      });
      await run('checkout', 'fetching', async () => {
        await mkdir(join(dir, 'home'), { recursive: true });
        await this.options.git.checkout(repo, resolved, join(dir, 'repo'), { signal });
        return { value: undefined, detail: resolved.branch ? `branch ${resolved.branch}` : 'detached HEAD' };
      });
      await run('detect', 'building', async () => ({
        value: undefined,
        status: 'skipped',
        detail:
          'Environment detection is not available yet: the workspace uses the tools installed on the host',
      }));
      await run('sandbox', 'starting', async () => {
        await this.startSandbox(row);
        const driver = this.options.driver;
        return {
          value: undefined,
          detail: `${driver.name}${driver.capabilities.isolation ? '' : ' (not isolated)'}`,
        };
      });
      await run('ready', 'running', async () => ({
        value: undefined,
        detail: null,
        patch: { status: 'running' },
      }));
    } catch (caught) {
      const error = signal.aborted ? signal.reason : caught;
      const step = steps.find((s) => s.status === 'running');
      if (step) {
        step.status = 'failed';
        step.finishedAt = new Date().toISOString();
        step.durationMs = step.startedAt ? Date.now() - Date.parse(step.startedAt) : null;
      }
      if (!(error instanceof NixSpaceError)) {
        this.options.logger.error(
          { err: error, workspace: id, step: step?.name },
          'workspace creation failed',
        );
      }
      // A failed creation leaves nothing behind: no sandbox, no processes, no checkout.
      await this.stopSandbox(id).catch(() => {});
      await rm(dir, { recursive: true, force: true });
      const body = toErrorBody(error);
      await this.save(id, {
        status: 'failed',
        steps,
        error: step ? { ...body, step: step.name } : body,
      }).catch((saveError: unknown) =>
        this.options.logger.error({ err: saveError, workspace: id }, 'could not record failure'),
      );
    }
  }

  private async startSandbox(row: Pick<WorkspaceRow, 'id' | 'name'>): Promise<void> {
    const { driver, limits } = this.options;
    // A driver that cannot enforce the configured policy (the unsafe process driver cannot cut
    // the network) runs with what it can do; the workspace is then marked not isolated.
    const network = driver.capabilities.networkPolicies.includes(this.options.network)
      ? this.options.network
      : driver.capabilities.networkPolicies[0]!;
    const dir = this.workspaceDir(row.id);
    const home = join(dir, 'home');
    const env: Record<string, string> = {
      HOME: home,
      PATH: SHELL_PATH,
      LANG: 'C.UTF-8',
      TERM: 'xterm-256color',
      SHELL: '/bin/bash',
      // Prompts show `…/<id>/repo`, not the whole data directory path.
      PROMPT_DIRTRIM: '2',
      NIXSPACE_WORKSPACE_ID: row.id,
    };
    const sandbox = await RuntimeSandbox.start(driver, {
      id: row.id,
      workspaceDir: dir,
      readOnlyPaths: [this.options.mirrorsDir],
      network,
      limits,
      hostname: `ws-${row.id.slice(0, 8)}`,
      env,
    });
    const terminals = new WorkspaceTerminals(sandbox, { argv: ['/bin/bash'], cwd: join(dir, 'repo'), env });
    const live: LiveWorkspace = { sandbox, terminals, stopping: false };
    this.live.set(row.id, live);
    await this.save(row.id, { sandbox: { driver: driver.name, isolated: driver.capabilities.isolation } });
    void sandbox.exited.then(async (exit) => {
      if (live.stopping || this.live.get(row.id) !== live) return;
      this.live.delete(row.id);
      terminals.closeAll();
      this.options.logger.warn({ workspace: row.id, exit }, 'sandbox exited unexpectedly');
      await this.save(row.id, {
        status: 'failed',
        error: {
          code: 'SANDBOX_FAILED',
          message: `The workspace sandbox exited unexpectedly (${exit.signal ?? `exit code ${exit.code}`}); its files are kept`,
          step: 'sandbox',
        },
      }).catch(() => {});
    });
  }

  private async stopSandbox(id: string): Promise<void> {
    const live = this.live.get(id);
    if (!live) return;
    live.stopping = true;
    live.terminals.closeAll();
    await live.sandbox.stop();
    this.live.delete(id);
    await this.save(id, { sandbox: null }).catch(() => {});
  }

  private async owned(user: User, id: string): Promise<WorkspaceRow> {
    const row = isUuid(id) ? await findWorkspace(this.options.store.db, id) : undefined;
    // Another person's workspace answers exactly like a missing one.
    if (!row || row.owner_id !== user.id) {
      throw new NixSpaceError('NOT_FOUND', `Workspace ${id} does not exist`);
    }
    return row;
  }

  private async save(id: string, patch: WorkspacePatch): Promise<WorkspaceRow> {
    const row = await updateWorkspace(this.options.store.db, id, patch);
    this.emit(id, { type: 'workspace', workspace: toWorkspaceView(row) });
    return row;
  }

  private log(id: string, step: StepName, line: string): void {
    const event: WorkspaceEvent = { type: 'log', step, line };
    let recent = this.recentLogs.get(id);
    if (!recent) {
      recent = [];
      this.recentLogs.set(id, recent);
    }
    recent.push(event);
    if (recent.length > LOG_REPLAY_LINES) recent.shift();
    this.emit(id, event);
  }

  private emit(id: string, event: WorkspaceEvent): void {
    for (const listener of this.listeners.get(id) ?? []) {
      try {
        listener(event);
      } catch (error) {
        this.options.logger.warn({ err: error, workspace: id }, 'workspace listener failed');
      }
    }
  }

  /** Runs lifecycle changes of one workspace one at a time. */
  private locked<T>(id: string, fn: () => Promise<T>): Promise<T> {
    const previous = this.locks.get(id) ?? Promise.resolve();
    const next = previous.catch(() => {}).then(fn);
    this.locks.set(id, next);
    void next
      .catch(() => {})
      .finally(() => {
        if (this.locks.get(id) === next) this.locks.delete(id);
      });
    return next;
  }
}

function normaliseRef(ref: string | null | undefined): string | null {
  const trimmed = ref?.trim();
  if (!trimmed) return null;
  // The same rules as `git check-ref-format`, plus plain commit ids.
  if (
    trimmed.length > 255 ||
    // biome-ignore lint/suspicious/noControlCharactersInRegex: git forbids control characters in refs.
    /[\s~^:?*[\\\x00-\x1f\x7f]/.test(trimmed) ||
    trimmed.includes('..') ||
    trimmed.includes('@{') ||
    trimmed.startsWith('-') ||
    trimmed.startsWith('/') ||
    trimmed.endsWith('/') ||
    trimmed.endsWith('.lock') ||
    trimmed.endsWith('.')
  ) {
    throw new NixSpaceError('BAD_REQUEST', `'${trimmed}' is not a valid branch, tag or commit name`);
  }
  return trimmed;
}

function isUuid(value: string): boolean {
  return /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(value);
}

function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value.toFixed(value < 10 ? 1 : 0)} ${units[unit]}`;
}
