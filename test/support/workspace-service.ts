// A real WorkspaceService without the HTTP server, for the pipeline suites: its own data
// directory, an in-memory store, the host's isolating sandbox driver, the host environment
// provider, and a logger whose entries the test reads.

import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { GitMirrors } from '../../src/git/mirrors.js';
import { SourcePolicy } from '../../src/git/source-policy.js';
import { selectEnvironmentProvider } from '../../src/nix/select-provider.js';
import { selectWorkspaceVolumes } from '../../src/runtime/disk/select-volumes.js';
import { selectSandboxDriver } from '../../src/runtime/select-driver.js';
import { AccessService, type User } from '../../src/services/access/access-service.js';
import { DependencyInstaller } from '../../src/services/environments/dependency-installer.js';
import { EnvironmentService } from '../../src/services/environments/environment-service.js';
import { RunningJobs } from '../../src/services/jobs/running-jobs.js';
import { ServiceSupervisor } from '../../src/services/workspaces/backing-services/supervisor.js';
import type {
  WorkspaceEvent,
  WorkspaceServiceOptions,
} from '../../src/services/workspaces/workspace-options.js';
import { WorkspaceService } from '../../src/services/workspaces/workspace-service.js';
import type { WorkspaceView } from '../../src/services/workspaces/workspace-view.js';
import { Store } from '../../src/store/store.js';
import { endSandboxesUnder } from './leftover-sandboxes.js';

/** One entry the service logged, as pino wrote it. */
export interface LogEntry {
  level: number;
  msg: string;
  workspace?: string;
  err?: { message: string };
  failure?: { code: string; message: string; step?: string };
}

export interface TestWorkspaces extends AsyncDisposable {
  service: WorkspaceService;
  options: WorkspaceServiceOptions;
  store: Store;
  owner: User;
  dataDir: string;
  logs: LogEntry[];
  /** Follows a workspace until `done` holds of its view; resolves with that view. */
  waitFor(id: string, done: (view: WorkspaceView) => boolean): Promise<WorkspaceView>;
  close(): Promise<void>;
}

export async function startTestWorkspaces(): Promise<TestWorkspaces> {
  const dataDir = await mkdtemp(join(tmpdir(), 'nixspace-pipelines-'));
  const store = await Store.open({ pgliteDir: 'memory://' });
  const logs: LogEntry[] = [];
  const logger = pino({ level: 'info' }, { write: (line: string) => void logs.push(JSON.parse(line)) });
  const sources = new SourcePolicy({ allowLocal: true, forbiddenDirs: [dataDir] });
  const options: WorkspaceServiceOptions = {
    store,
    git: new GitMirrors({
      mirrorsDir: join(dataDir, 'mirrors'),
      timeoutMs: 5000,
      maxRepoBytes: 64 * 1024 * 1024,
      sources,
    }),
    sources,
    driver: await selectSandboxDriver({ unsafeNoSandbox: false }),
    workspacesDir: join(dataDir, 'workspaces'),
    volumes: await selectWorkspaceVolumes({
      unsafeNoDiskQuota: true,
      dir: join(dataDir, 'volumes'),
      sizeBytes: 1024 ** 3,
    }),
    mirrorsDir: join(dataDir, 'mirrors'),
    hiddenPaths: [dataDir],
    runDir: join(dataDir, 'run'),
    limits: { memoryBytes: 1024 ** 3, cpus: 2, pids: 1024 },
    network: 'none',
    installNetwork: 'none',
    environments: new EnvironmentService({
      store,
      provider: await selectEnvironmentProvider({ force: 'host' }),
      environmentsDir: join(dataDir, 'environments'),
    }),
    installer: new DependencyInstaller(join(dataDir, 'cache', 'dependencies')),
    backingServices: new ServiceSupervisor(),
    jobs: new RunningJobs(),
    logger,
  };
  const service = new WorkspaceService(options);
  const { user: owner } = await new AccessService(store).ensureOwner('owner@example.test');
  const close = async () => {
    try {
      await service.shutdown();
    } finally {
      await endSandboxesUnder(dataDir);
      await store.close();
      await rm(dataDir, { recursive: true, force: true });
    }
  };
  return {
    service,
    options,
    store,
    owner,
    dataDir,
    logs,
    async waitFor(id, done) {
      let stop: (() => void) | undefined;
      const seen = new Promise<WorkspaceView>((resolve) => {
        void service
          .subscribe(owner, id, (event: WorkspaceEvent) => {
            if (event.type === 'workspace' && done(event.workspace)) resolve(event.workspace);
          })
          .then((unsubscribe) => {
            stop = unsubscribe;
          });
      });
      const view = await seen;
      stop?.();
      return view;
    },
    close,
    [Symbol.asyncDispose]: close,
  };
}
