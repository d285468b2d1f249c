// Runs a workspace's dependency installs, and caches what they produce: the same lockfile and
// manifest (in the same environment) are installed once per owner, then restored by copy (a reflink
// where the filesystem allows), so returning to an earlier commit does not install again. Without
// a lockfile the whole manifest keys the cache, in a part of it for one workspace, and a lockfile
// the install writes is kept in the cache entry, not left in the checkout as a change nobody made.
// One owner's install is never restored into another owner's workspace.

import { randomBytes } from 'node:crypto';
import { access, mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { dirname, join, relative } from 'node:path';
import { NixSpaceError } from '../../errors.js';
import { shellQuote } from '../../runtime/host/shell-quote.js';
import { kindBelow, plainPath, presentIn } from '../../runtime/host/workspace-file.js';
import { copyTreeFromBelow } from '../files/copy-tree.js';
import { installKeys } from './dependency-cache-key.js';
import type { InstallPlan } from './dependency-plan.js';

/**
 * Runs a script in the workspace (inside its sandbox, as the workspace user) and reports each
 * output line. `restore` marks the copy of a cached install into the workspace.
 */
export type ScriptRunner = (
  script: string,
  options: {
    cwd: string;
    onLine(line: string): void;
    signal?: AbortSignal | undefined;
    purpose?: 'restore';
  },
) => Promise<number>;

export interface InstallOutcome {
  label: string;
  /**
   * `cached`: restored from an earlier identical install; `unchanged`: the workspace already has
   * exactly this install (nothing copied); `uncacheable`: nothing to key on or to restore.
   */
  result: 'installed' | 'cached' | 'unchanged' | 'uncacheable';
  key: string | undefined;
  durationMs: number;
}

interface Manifest {
  label: string;
  artifacts: string[];
  /** Lockfiles (repo-relative) the install wrote without the repository having one, kept here. */
  lockfiles?: string[];
  createdAt: string;
}

const LOG_TAIL = 40;

export class DependencyInstaller {
  constructor(private readonly cacheDir: string) {}

  /** Removes what only this scope (a deleted workspace) could be served from the cache. */
  async forget(scope: string): Promise<void> {
    await rm(this.scopeDir(scope), { recursive: true, force: true });
  }

  private scopeDir(scope: string): string {
    return join(this.cacheDir, 'workspaces', checkedScope(scope));
  }

  private ownerDir(owner: string): string {
    return join(this.cacheDir, 'owners', checkedScope(owner));
  }

  /**
   * Which install (cache key) each plan last completed in a workspace: the server's record, kept
   * with the workspace's part of the cache, out of the tree its sandbox can write.
   */
  private recordFile(scope: string): string {
    return join(this.scopeDir(scope), 'installed.json');
  }

  /** A branch starts with its parent's installs, and so with the record of what they are. */
  async copyRecord(fromScope: string, toScope: string): Promise<void> {
    const record = await readFile(this.recordFile(fromScope)).catch(() => undefined);
    if (record === undefined) return;
    await mkdir(this.scopeDir(toScope), { recursive: true });
    await writeFile(this.recordFile(toScope), record);
  }

  async install(
    plans: readonly InstallPlan[],
    options: {
      workspaceDir: string;
      /** The environment's hash: the same lockfile under another toolchain is another install. */
      environmentHash: string;
      /** Installs without a lockfile are reused only within this scope (the workspace's id). */
      cacheScope: string;
      /** Whose workspace it is (the owner's id): no install is reused across owners. */
      ownerScope: string;
      run: ScriptRunner;
      onLog(line: string): void;
      signal?: AbortSignal | undefined;
    },
  ): Promise<InstallOutcome[]> {
    const outcomes: InstallOutcome[] = [];
    for (const plan of plans) {
      options.signal?.throwIfAborted();
      const started = performance.now();
      const outcome = (result: InstallOutcome['result'], key: string | undefined) =>
        outcomes.push({
          label: plan.label,
          result,
          key,
          durationMs: Math.round(performance.now() - started),
        });
      const repoDir = join(options.workspaceDir, 'repo');
      const keys = await installKeys(plan, repoDir, options);
      const { cache: key, local: localKey } = keys;
      const entry =
        key && join(keys.locked ? this.ownerDir(options.ownerScope) : this.scopeDir(options.cacheScope), key);
      const record = this.recordFile(options.cacheScope);
      const installed = await readInstalled(record);
      const previous = installed[plan.label];
      if (
        localKey &&
        entryKey(previous) === localKey &&
        (await stillInstalled(previous!, plan, options.workspaceDir))
      ) {
        // Switching between commits with the same lockfile (or manifest): what is there is right.
        options.onLog(`${plan.label}: unchanged (${localKey.slice(0, 12)})`);
        outcome('unchanged', key);
        continue;
      }
      // Whatever was installed is about to change: forget it until the new install is complete.
      if (installed[plan.label] !== undefined) {
        delete installed[plan.label];
        await writeInstalled(record, installed);
      }
      if (entry && (await this.restore(entry, options.workspaceDir, options))) {
        await writeInstalled(record, {
          ...installed,
          [plan.label]: await installedEntry(localKey ?? key, plan, options.workspaceDir),
        });
        const what = keys.locked ? 'its lockfile' : 'this manifest';
        options.onLog(
          `${plan.label}: restored from cache ${key.slice(0, 12)} (${what} was installed before)`,
        );
        outcome('cached', key);
        continue;
      }
      // Without a lockfile, one the install writes is not the repository's: it leaves the checkout.
      const absent: string[] = [];
      if (!keys.locked)
        for (const file of plan.writtenLockfiles) if (!(await presentIn(repoDir, file))) absent.push(file);
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
      // A failed install does not leave what it wrote in the checkout either.
      const written = await this.setAsideLockfiles(absent, repoDir, options);
      try {
        if (code !== 0) {
          throw new NixSpaceError('INSTALL_FAILED', `\`${plan.label}\` failed with exit code ${code}`, {
            detail: tail.join('\n'),
          });
        }
        if (written.files.length > 0)
          options.onLog(
            `${plan.label}: ${written.files.join(', ')} kept with the install, not in the checkout`,
          );
        if (entry) await this.save(entry, plan, options.workspaceDir, written);
      } finally {
        if (await plainPath(options.workspaceDir, relative(options.workspaceDir, written.dir)))
          await rm(written.dir, { recursive: true, force: true });
      }
      if (localKey) {
        await writeInstalled(record, {
          ...installed,
          [plan.label]: await installedEntry(localKey, plan, options.workspaceDir),
        });
      }
      outcome(key ? 'installed' : 'uncacheable', key);
    }
    return outcomes;
  }

  /**
   * Moves the lockfiles an install wrote out of the checkout, inside the sandbox (the checkout is
   * the workspace's to rearrange; the host follows nothing in it), into a directory of the
   * workspace's own state, and lists those it moved.
   */
  private async setAsideLockfiles(
    files: string[],
    repoDir: string,
    options: { workspaceDir: string; run: ScriptRunner; signal?: AbortSignal | undefined },
  ): Promise<{ dir: string; files: string[] }> {
    options.signal?.throwIfAborted();
    const dir = join(options.workspaceDir, '.nixspace', `lockfiles-${randomBytes(6).toString('hex')}`);
    const written: string[] = [];
    for (const file of files) if (await presentIn(repoDir, file)) written.push(file);
    if (written.length === 0) return { dir, files: [] };
    const moved: string[] = [];
    const script = [
      `for f in ${written.map(shellQuote).join(' ')}; do`,
      '  if [ -e "$f" ] || [ -L "$f" ]; then',
      `    mkdir -p -- ${shellQuote(dir)}/"$(dirname -- "$f")" && mv -f -- "$f" ${shellQuote(dir)}/"$f" && echo "moved $f"`,
      '  fi',
      'done',
    ].join('\n');
    const code = await options.run(script, {
      cwd: repoDir,
      signal: options.signal,
      onLine: (line) => {
        const file = /^moved (.+)$/.exec(line)?.[1];
        if (file && written.includes(file)) moved.push(file);
      },
    });
    if (code !== 0) {
      throw new NixSpaceError('INSTALL_FAILED', `Could not move ${written.join(', ')} out of the checkout`);
    }
    return { dir, files: moved };
  }

  /**
   * Copies a cached install into the workspace from inside its sandbox, as the workspace user: the
   * directories on the way are the workspace's to swap for symlinks, and a host copy would follow
   * them. The sandbox sees the cache's entries of this owner and workspace read-only (cacheDirs).
   */
  private async restore(
    entry: string,
    workspaceDir: string,
    options: { run: ScriptRunner; signal?: AbortSignal | undefined },
  ): Promise<boolean> {
    const manifest = await readFile(join(entry, 'manifest.json'), 'utf8')
      .then((text) => JSON.parse(text) as Manifest)
      .catch(() => undefined);
    if (!manifest) return false;
    const copies: string[] = [];
    for (const artifact of manifest.artifacts) {
      if (!(await plainPath(workspaceDir, artifact))) return false;
      const [target, source] = [join(workspaceDir, artifact), join(entry, 'files', artifact)].map(shellQuote);
      copies.push(
        `rm -rf -- ${target} && mkdir -p -- "$(dirname -- ${target})" && cp -a --reflink=auto -- ${source} ${target}`,
      );
    }
    if (copies.length === 0) return true;
    const code = await options.run(copies.join(' &&\n'), {
      cwd: workspaceDir,
      signal: options.signal,
      onLine: () => {},
      purpose: 'restore',
    });
    return code === 0;
  }

  /**
   * The cache directories a sandbox of this owner's workspace must see (read-only) for a restore,
   * made if they are not there yet so that the sandbox can mount them before the first install.
   */
  async cacheDirs(ownerScope: string, cacheScope: string): Promise<string[]> {
    const dirs = [this.ownerDir(ownerScope), this.scopeDir(cacheScope)];
    for (const dir of dirs) await mkdir(dir, { recursive: true });
    return dirs;
  }

  private async save(
    entry: string,
    plan: InstallPlan,
    workspaceDir: string,
    written: { dir: string; files: string[] },
  ): Promise<void> {
    if (await exists(join(entry, 'manifest.json'))) return;
    // Staged beside the entry: the rename that publishes it stays on one filesystem.
    await mkdir(dirname(entry), { recursive: true });
    const staging = join(dirname(entry), `.staging-${randomBytes(6).toString('hex')}`);
    try {
      await mkdir(staging, { recursive: true });
      const saved: string[] = [];
      for (const artifact of plan.artifacts) {
        // Copied from below the workspace's root: a symlink (on the way or the artifact) is not.
        if (!(await installedArtifact(workspaceDir, artifact))) continue;
        const target = join(staging, 'files', artifact);
        await mkdir(dirname(target), { recursive: true });
        if (await copyTreeFromBelow(workspaceDir, artifact, target)) saved.push(artifact);
      }
      if (written.files.length > 0)
        await copyTreeFromBelow(
          workspaceDir,
          relative(workspaceDir, written.dir),
          join(staging, 'lockfiles'),
        );
      const manifest: Manifest = {
        label: plan.label,
        artifacts: saved,
        ...(written.files.length > 0 ? { lockfiles: written.files } : {}),
        createdAt: new Date().toISOString(),
      };
      await writeFile(join(staging, 'manifest.json'), JSON.stringify(manifest));
      // The rename publishes the entry whole; a concurrent identical install keeps the first.
      await rename(staging, entry).catch(() => undefined);
    } finally {
      await rm(staging, { recursive: true, force: true });
    }
  }
}

function checkedScope(scope: string): string {
  if (!/^[\w-]+$/.test(scope)) throw new NixSpaceError('INTERNAL', `Not a cache scope: ${scope}`);
  return scope;
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
    if (await installedArtifact(workspaceDir, artifact)) artifacts.push(artifact);
  return { key, artifacts };
}

async function stillInstalled(
  entry: InstalledEntry,
  plan: InstallPlan,
  workspaceDir: string,
): Promise<boolean> {
  const artifacts = typeof entry === 'string' ? plan.artifacts : entry.artifacts;
  for (const artifact of artifacts) if (!(await installedArtifact(workspaceDir, artifact))) return false;
  return true;
}

/** What an install left: a real file or directory in the workspace, not a symlink to elsewhere. */
async function installedArtifact(workspaceDir: string, artifact: string): Promise<boolean> {
  const kind = await kindBelow(workspaceDir, artifact);
  return kind === 'dir' || kind === 'file';
}

/** The record is the server's own; a damaged one only means installing again. */
async function readInstalled(file: string): Promise<Record<string, InstalledEntry>> {
  try {
    return JSON.parse(await readFile(file, 'utf8')) as Record<string, InstalledEntry>;
  } catch {
    return {};
  }
}

async function writeInstalled(file: string, installed: Record<string, InstalledEntry>): Promise<void> {
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
