// Builds bare repositories with real, deterministic commits for the git tests, using plumbing
// (hash-object, mktree, commit-tree) so no working tree or user config is involved.

import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { rm } from 'node:fs/promises';
import { createServer, type Socket } from 'node:net';
import { join } from 'node:path';

export interface MadeRepo {
  /** The bare repository directory. */
  dir: string;
  /** Commits on the default branch, oldest first. */
  commits: string[];
  /** Tip commit of each branch, default branch included. */
  branches: Record<string, string>;
  /** The commit each tag points at (peeled for annotated tags). */
  tags: Record<string, string>;
  /** Object id of each annotated tag object. */
  tagObjects: Record<string, string>;
}

export interface RepoSpec {
  defaultBranch?: string;
  /** Commits on the default branch (default 1); commit i adds `file-<i>.txt`. */
  commits?: number;
  /** Files of the first commit, in addition to the generated ones. */
  files?: Record<string, string | Buffer>;
  /** Symlinks of the first commit: path → target, as a repository can hold them. */
  symlinks?: Record<string, string>;
  /** Extra branches, each one commit ahead of the default branch adding `<branch>.txt`. */
  branches?: string[];
  /** Tags at commit `at` of the default branch (default: the last one). */
  tags?: Array<{ name: string; at?: number; annotated?: boolean }>;
}

const fixedIdentity = {
  GIT_AUTHOR_NAME: 'Test Author',
  GIT_AUTHOR_EMAIL: 'author@example.test',
  GIT_COMMITTER_NAME: 'Test Committer',
  GIT_COMMITTER_EMAIL: 'committer@example.test',
};

let clock = 0;
function dateEnv(): Record<string, string> {
  // A fixed, increasing clock keeps ids deterministic within a run and ordering unambiguous.
  clock += 1;
  const date = `${1_700_000_000 + clock * 60} +0000`;
  return { GIT_AUTHOR_DATE: date, GIT_COMMITTER_DATE: date };
}

export async function git(
  args: string[],
  options: { cwd?: string; input?: string | Buffer; env?: Record<string, string> } = {},
): Promise<string> {
  const child = spawn('git', args, {
    cwd: options.cwd,
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      GIT_CONFIG_NOSYSTEM: '1',
      GIT_CONFIG_GLOBAL: '/dev/null',
      LC_ALL: 'C',
      ...fixedIdentity,
      ...options.env,
    },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  child.stdout.on('data', (c: Buffer) => out.push(c));
  child.stderr.on('data', (c: Buffer) => err.push(c));
  // git may exit without reading stdin (EPIPE); that is not a failure of the command.
  child.stdin.on('error', () => {});
  if (options.input === undefined) child.stdin.end();
  else child.stdin.end(options.input);
  const [code] = (await once(child, 'close')) as [number | null];
  if (code !== 0) {
    throw new Error(`git ${args.join(' ')} failed (${code}): ${Buffer.concat(err).toString()}`);
  }
  return Buffer.concat(out).toString('utf8').trim();
}

/** Writes one commit on top of `parent` (or a root commit) replacing/adding `files`. */
export async function commitFiles(
  gitDir: string,
  options: {
    parent?: string;
    files: Record<string, string | Buffer>;
    symlinks?: Record<string, string>;
    message: string;
  },
): Promise<string> {
  const index = join(gitDir, `fixture-index-${process.pid}-${randomBytes(4).toString('hex')}`);
  const env = { GIT_INDEX_FILE: index };
  try {
    if (options.parent !== undefined) await git(['--git-dir', gitDir, 'read-tree', options.parent], { env });
    const entries = [
      ...Object.entries(options.files).map(([path, content]) => ({ path, content, mode: '100644' })),
      ...Object.entries(options.symlinks ?? {}).map(([path, target]) => ({
        path,
        content: target,
        mode: '120000',
      })),
    ];
    for (const { path, content, mode } of entries) {
      const blob = await git(['--git-dir', gitDir, 'hash-object', '-w', '--stdin'], { input: content });
      await git(['--git-dir', gitDir, 'update-index', '--add', '--cacheinfo', `${mode},${blob},${path}`], {
        env,
      });
    }
    const tree = await git(['--git-dir', gitDir, 'write-tree'], { env });
    const parents = options.parent === undefined ? [] : ['-p', options.parent];
    return await git(['--git-dir', gitDir, 'commit-tree', tree, ...parents, '-m', options.message], {
      env: dateEnv(),
    });
  } finally {
    await rm(index, { force: true });
  }
}

/** Adds a commit to `branch` of an existing bare repository, as a push would. */
export async function pushCommit(
  gitDir: string,
  branch: string,
  files: Record<string, string | Buffer>,
  message = 'Another commit',
): Promise<string> {
  const parent = await git(['--git-dir', gitDir, 'rev-parse', `refs/heads/${branch}`]);
  const commit = await commitFiles(gitDir, { parent, files, message });
  await git(['--git-dir', gitDir, 'update-ref', `refs/heads/${branch}`, commit, parent]);
  return commit;
}

export async function makeEmptyRepo(root: string, name: string): Promise<string> {
  const dir = join(root, name);
  await git(['init', '--quiet', '--bare', '--initial-branch', 'main', dir]);
  return dir;
}

export async function makeRepo(root: string, name: string, spec: RepoSpec = {}): Promise<MadeRepo> {
  const defaultBranch = spec.defaultBranch ?? 'main';
  const dir = join(root, name);
  await git(['init', '--quiet', '--bare', '--initial-branch', defaultBranch, dir]);

  const commits: string[] = [];
  const count = spec.commits ?? 1;
  for (let i = 0; i < count; i++) {
    const files: Record<string, string | Buffer> = { [`file-${i}.txt`]: `content of commit ${i}\n` };
    if (i === 0) Object.assign(files, { 'README.md': `# ${name}\n` }, spec.files);
    const parent = commits.at(-1);
    const symlinks = i === 0 ? (spec.symlinks ?? {}) : {};
    commits.push(
      await commitFiles(
        dir,
        parent === undefined
          ? { files, symlinks, message: `Commit ${i}` }
          : { parent, files, symlinks, message: `Commit ${i}` },
      ),
    );
  }
  const tip = commits.at(-1)!;
  await git(['--git-dir', dir, 'update-ref', `refs/heads/${defaultBranch}`, tip]);

  const branches: Record<string, string> = { [defaultBranch]: tip };
  for (const branch of spec.branches ?? []) {
    const commit = await commitFiles(dir, {
      parent: tip,
      files: { [`${branch.replaceAll('/', '-')}.txt`]: `on ${branch}\n` },
      message: `Work on ${branch}`,
    });
    await git(['--git-dir', dir, 'update-ref', `refs/heads/${branch}`, commit]);
    branches[branch] = commit;
  }

  const tags: Record<string, string> = {};
  const tagObjects: Record<string, string> = {};
  for (const tag of spec.tags ?? []) {
    const target = commits[tag.at ?? count - 1];
    if (target === undefined) throw new Error(`tag ${tag.name}: no commit ${tag.at}`);
    if (tag.annotated) {
      await git(['--git-dir', dir, 'tag', '-a', tag.name, '-m', `Release ${tag.name}`, target], {
        env: dateEnv(),
      });
      tagObjects[tag.name] = await git(['--git-dir', dir, 'rev-parse', `refs/tags/${tag.name}`]);
    } else {
      await git(['--git-dir', dir, 'update-ref', `refs/tags/${tag.name}`, target]);
    }
    tags[tag.name] = target;
  }
  return { dir, commits, branches, tags, tagObjects };
}

/** A repository whose single commit holds `bytes` of incompressible data, for size limits. */
export async function makeLargeRepo(root: string, name: string, bytes = 4 * 1024 * 1024): Promise<MadeRepo> {
  return makeRepo(root, name, { files: { 'blob.bin': randomBytes(bytes) } });
}

export interface SilentHost extends AsyncDisposable {
  readonly port: number;
  url(name: string): string;
  /** Sockets currently open; drops to 0 when the client (git) goes away. */
  readonly openConnections: number;
  /** Resolves once a connection has arrived and every connection has closed again. */
  allClosed(): Promise<void>;
  close(): Promise<void>;
}

/** A TCP server on loopback that accepts connections and never answers: a host that hangs. */
export async function startSilentHost(): Promise<SilentHost> {
  const sockets = new Set<Socket>();
  let seen = false;
  let waiters: Array<() => void> = [];
  const server = createServer((socket) => {
    seen = true;
    sockets.add(socket);
    socket.on('error', () => {});
    // Read and drop the request: an unread socket never sees the peer's FIN, so never closes.
    socket.resume();
    socket.on('close', () => {
      sockets.delete(socket);
      if (sockets.size === 0) {
        for (const wake of waiters) wake();
        waiters = [];
      }
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  const close = async (): Promise<void> => {
    for (const socket of sockets) socket.destroy();
    if (server.listening) await new Promise<void>((resolve) => server.close(() => resolve()));
  };
  return {
    port,
    url: (name) => `http://127.0.0.1:${port}/${name}`,
    get openConnections() {
      return sockets.size;
    },
    allClosed: () =>
      seen && sockets.size === 0 ? Promise.resolve() : new Promise<void>((resolve) => waiters.push(resolve)),
    close,
    [Symbol.asyncDispose]: close,
  };
}

/** A loopback port with nothing listening on it (connections are refused). */
export async function closedPort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
