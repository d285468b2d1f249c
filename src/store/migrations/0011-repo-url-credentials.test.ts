import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { sql } from 'kysely';
import { testDatabases } from '../../../test/support/databases.js';
import { insertWorkspace } from '../workspace-queries.js';
import { sql as migration } from './0011-repo-url-credentials.js';

for (const backend of testDatabases) {
  describe(`migration 0011 on ${backend.name}`, { skip: backend.skip }, () => {
    it('drops the credentials of repository URLs stored before they were refused, and nothing else', async () => {
      await using t = await backend.open();
      const owner = crypto.randomUUID();
      await t.store.db.insertInto('users').values({ id: owner, email: 'o@x.test', role: 'owner' }).execute();
      const urls = {
        'https://user:s3cr3t@example.test/o/r.git': 'https://example.test/o/r.git',
        'HTTP://s3cr3t@127.0.0.1:8080/r.git': 'HTTP://127.0.0.1:8080/r.git',
        'https://example.test/o/at@sign.git': 'https://example.test/o/at@sign.git',
        '/srv/git/user@host.git': '/srv/git/user@host.git',
      };
      for (const repoUrl of Object.keys(urls)) {
        await insertWorkspace(t.store.db, {
          id: crypto.randomUUID(),
          ownerId: owner,
          name: 'r',
          repoUrl,
          ref: null,
          steps: [],
        });
      }
      await sql.raw(migration).execute(t.store.db);
      const rows = await t.store.db.selectFrom('workspaces').select('repo_url').execute();
      assert.deepEqual(rows.map((r) => r.repo_url).sort(), Object.values(urls).sort());
    });
  });
}
