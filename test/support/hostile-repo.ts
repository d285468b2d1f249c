// A repository that attacks the host through its symlinks: pin files, a Makefile and a
// subproject linked to host files (a signing key, a shadow file, another project's manifest).

import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { RepoSpec } from './git-fixtures.js';

/** Strings of the planted host files that must never come back from the server. */
export const secretMarkers = [
  'SIGNINGKEY',
  'hostadmin',
  '$6$saltsalt',
  'host-secret-pkg',
  'hostsecret-script',
];

/** Writes the host files under `dir`, and returns a repository spec whose symlinks point at them. */
export async function symlinkedSecretsRepo(dir: string): Promise<RepoSpec> {
  await mkdir(join(dir, 'project'), { recursive: true });
  await writeFile(join(dir, 'token-key'), 'v20-SIGNINGKEY-d41d8cd98f00\n');
  await writeFile(join(dir, 'shadow'), 'root:$6$saltsalt$hash:19000:0:99999:7:::\nhostadmin:!:19000::::::\n');
  await writeFile(
    join(dir, 'project', 'package.json'),
    JSON.stringify({ name: 'host-secret-pkg', scripts: { 'hostsecret-script': 'true' } }),
  );
  return {
    files: {
      'package.json': JSON.stringify({ name: 'hostile', scripts: { build: 'echo build' } }),
      'api/go.mod': 'module api\ngo 1.22\n',
    },
    symlinks: {
      '.nvmrc': join(dir, 'token-key'),
      Makefile: join(dir, 'shadow'),
      web: join(dir, 'project'),
      'api/.go-version': join(dir, 'token-key'),
      '.ruby-version': '.nvmrc',
    },
  };
}
