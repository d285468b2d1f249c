// Runs a workspace's dependency installs, and caches what they produce by lockfile: the same
// lockfile (in the same environment) is installed once, then restored by copy (a reflink where
// the filesystem allows), so returning to an earlier commit does not install again. Without a
// lockfile nothing is cached, but a workspace does not install the same manifest twice in a row.

import { createHash, randomBytes } from 'node:crypto';
import { access, mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { NixSpaceError } from '../../errors.js';
import { copyTree } from '../files/copy-tree.js';
import type { InstallPlan } from './dependency-plan.js';

/** Runs a script in the workspace (inside its sandbox) and reports each output line. */
export type ScriptRunner = (
  script: string,
  options: { cwd: string; onLine(line: string): void; signal?: AbortSignal | undefined },
) => Promise<number>;

export interface InstallOutcome {
  label: string;
  /**
   * `cached`: restored from an earlier identical install; `unchanged`: the workspace already has
   * exactly this install (nothing copied); `uncacheable`: no lockfile to key on.
   */
  result: 'installed' | 'cached' | 'unchanged' | 'uncacheable';
  key: string | undefined;
  durationMs: number;
}

interface Manifest {
  label: string;
  artifacts: string[];
  createdAt: string;
}

const LOG_TAIL = 40;

export class DependencyInstaller {
  constructor(private readonly cacheDir: string) {}

  async install(
    plans: readonly InstallPlan[],
    options: {
      workspaceDir: string;
      /** The environment's hash: the same lockfile under another toolchain is another install. */
      environmentHash: string;
      run: ScriptRunner;
      onLog(line: string): void;
      signal?: AbortSignal | undefined;
    },
  ): Promise<InstallOutcome[]> {
    const outcomes: InstallOutcome[] = [];
    for (const plan of plans) {
      options.signal?.throwIfAborted();
      const started = performance.now();
      const repoDir = join(options.workspaceDir, 'repo');
      const key = await this.cacheKey(plan, repoDir, options.environmentHash);
      // Without a lockfile nothing is cached, but the same manifest installed in this workspace
      // before needs no second install.
      const localKey = key ?? (await manifestKey(plan, repoDir, options.environmentHash));
      const installed = await readInstalled(options.workspaceDir);
      const previous = installed[plan.label];
      if (
        localKey &&
        entryKey(previous) === localKey &&
        (await stillInstalled(previous!, plan, options.workspaceDir))
      ) {
        // Switching between commits with the same lockfile: what is there is already right.
        options.onLog(`${plan.label}: unchanged (${localKey.slice(0, 12)})`);
        outcomes.push({
          label: plan.label,
          result: 'unchanged',
          key,
          durationMs: Math.round(performance.now() - started),
        });
        continue;
      }
      // Whatever was installed is about to change: forget it until the new install is complete.
      if (installed[plan.label] !== undefined) {
        delete installed[plan.label];
        await writeInstalled(options.workspaceDir, installed);
      }
      if (key && (await this.restore(key, options.workspaceDir))) {
        await writeInstalled(options.workspaceDir, {
          ...installed,
          [plan.label]: await installedEntry(key, plan, options.workspaceDir),
        });
        options.onLog(`${plan.label}: restored from cache ${key.slice(0, 12)}`);
        outcomes.push({
          label: plan.label,
          result: 'cached',
          key,
          durationMs: Math.round(performance.now() - started),
        });
        continue;
      }
      options.onLog(`$ ${plan.label}`);
      const tail: string[] = [];
      const code = await options.run(plan.script, {
        cwd: repoDir,
        signal: options.signal,
        onLine: (line) => {
          tail.push(line);
          if (tail.length > LOG_TAIL) tail.shift();
          options.onLog(line);
        },
      });
      if (code !== 0) {
        throw new NixSpaceError('INSTALL_FAILED', `\`${plan.label}\` failed with exit code ${code}`, {
          detail: tail.join('\n'),
        });
      }
      if (key) await this.save(key, plan, options.workspaceDir);
      if (localKey) {
        await writeInstalled(options.workspaceDir, {
          ...installed,
          [plan.label]: await installedEntry(localKey, plan, options.workspaceDir),
        });
      }
      outcomes.push({
        label: plan.label,
        result: key ? 'installed' : 'uncacheable',
        key,
        durationMs: Math.round(performance.now() - started),
      });
    }
    return outcomes;
  }

  private async cacheKey(
    plan: InstallPlan,
    repoDir: string,
    environmentHash: string,
  ): Promise<string | undefined> {
    const hash = createHash('sha256').update(`${environmentHash}\0${plan.manager}\0${plan.script}\0`);
    let found = 0;
    for (const file of plan.lockfiles) {
      const content = await readFile(join(repoDir, file)).catch(() => undefined);
      if (content === undefined) continue;
      found++;
      hash.update(`${file}\0`).update(content).update('\0');
    }
    return found > 0 && plan.artifacts.length > 0 ? hash.digest('hex') : undefined;
  }

  private async restore(key: string, workspaceDir: string): Promise<boolean> {
    const entry = join(this.cacheDir, key);
    const manifest = await readFile(join(entry, 'manifest.json'), 'utf8')
      .then((text) => JSON.parse(text) as Manifest)
      .catch(() => undefined);
    if (!manifest) return false;
    for (const artifact of manifest.artifacts) {
      const target = join(workspaceDir, artifact);
      await rm(target, { recursive: true, force: true });
      await mkdir(dirname(target), { recursive: true });
      await copyTree(join(entry, 'files', artifact), target);
    }
    return true;
  }

  private async save(key: string, plan: InstallPlan, workspaceDir: string): Promise<void> {
    const entry = join(this.cacheDir, key);
    if (await exists(join(entry, 'manifest.json'))) return;
    const staging = join(this.cacheDir, `.staging-${randomBytes(6).toString('hex')}`);
    try {
      await mkdir(staging, { recursive: true });
      const saved: string[] = [];
      for (const artifact of plan.artifacts) {
        const source = join(workspaceDir, artifact);
        if (!(await exists(source))) continue;
        const target = join(staging, 'files', artifact);
        await mkdir(dirname(target), { recursive: true });
        await copyTree(source, target);
        saved.push(artifact);
      }
      const manifest: Manifest = { label: plan.label, artifacts: saved, createdAt: new Date().toISOString() };
      await writeFile(join(staging, 'manifest.json'), JSON.stringify(manifest));
      // The rename publishes the entry whole; a concurrent identical install keeps the first.
      await rename(staging, entry).catch(() => undefined);
    } finally {
      await rm(staging, { recursive: true, force: true });
    }
  }
}

/** Which install (cache key) each plan last completed in this workspace. */
function installedFile(workspaceDir: string): string {
  return join(workspaceDir, '.nixspace', 'installed.json');
}

/**
 * What a workspace has installed for a plan: the key, and the artifact directories the install
 * left (an install with nothing to install may leave none). A bare key is the older form, which
 * expects every artifact.
 */
type InstalledEntry = string | { key: string; artifacts: string[] };

function entryKey(entry: InstalledEntry | undefined): string | undefined {
  return typeof entry === 'string' ? entry : entry?.key;
}

async function installedEntry(key: string, plan: InstallPlan, workspaceDir: string): Promise<InstalledEntry> {
  const artifacts: string[] = [];
  for (const artifact of plan.artifacts)
    if (await exists(join(workspaceDir, artifact))) artifacts.push(artifact);
  return { key, artifacts };
}

async function stillInstalled(
  entry: InstalledEntry,
  plan: InstallPlan,
  workspaceDir: string,
): Promise<boolean> {
  const artifacts = typeof entry === 'string' ? plan.artifacts : entry.artifacts;
  for (const artifact of artifacts) if (!(await exists(join(workspaceDir, artifact)))) return false;
  return true;
}

/** For a plan with no lockfile: the environment, the command and its manifests' content. */
async function manifestKey(
  plan: InstallPlan,
  repoDir: string,
  environmentHash: string,
): Promise<string | undefined> {
  const hash = createHash('sha256').update(`local\0${environmentHash}\0${plan.manager}\0${plan.script}\0`);
  let found = 0;
  for (const file of plan.manifests) {
    const content = await readFile(join(repoDir, file)).catch(() => undefined);
    if (content === undefined) continue;
    found++;
    hash.update(`${file}\0`).update(content).update('\0');
  }
  return found > 0 ? `local-${hash.digest('hex')}` : undefined;
}

async function readInstalled(workspaceDir: string): Promise<Record<string, InstalledEntry>> {
  return readFile(installedFile(workspaceDir), 'utf8')
    .then((text) => JSON.parse(text) as Record<string, InstalledEntry>)
    .catch(() => ({}));
}

async function writeInstalled(
  workspaceDir: string,
  installed: Record<string, InstalledEntry>,
): Promise<void> {
  const file = installedFile(workspaceDir);
  await mkdir(dirname(file), { recursive: true });
  await writeFile(`${file}.tmp`, JSON.stringify(installed));
  await rename(`${file}.tmp`, file);
}

async function exists(path: string): Promise<boolean> {
  return access(path).then(
    () => true,
    () => false,
  );
}
