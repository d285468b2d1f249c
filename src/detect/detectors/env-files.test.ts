import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { detectEnvironment } from '../detect.js';
import { canonicalJson } from '../env-spec.js';
import { memoryRepoFiles } from '../repo-files.js';

describe('env-files detector', () => {
  it('offers example variables and keeps secret values out of the spec', async () => {
    const { spec } = await detectEnvironment(
      memoryRepoFiles({
        '.env.example':
          '# app\nPORT=4000\nexport APP_NAME="My App"\nSECRET_KEY_BASE=abc123supersecret\nDATABASE_URL=postgres://user:hunter2@localhost/db\n',
        '.env': 'APP_NAME=ignored\nGITHUB_TOKEN=ghp_realtoken\n',
      }),
    );
    const byName = Object.fromEntries(spec.env.map((e) => [e.name, e]));
    assert.equal(byName.APP_NAME?.value, 'My App');
    assert.equal(byName.APP_NAME?.source.file, '.env.example');
    assert.equal(byName.SECRET_KEY_BASE?.secret, true);
    assert.equal(byName.SECRET_KEY_BASE?.value, null);
    assert.equal(byName.DATABASE_URL?.secret, true, 'a URL with a password is a secret');
    assert.equal(byName.GITHUB_TOKEN?.value, null);
    const json = canonicalJson(spec);
    for (const secret of ['abc123supersecret', 'hunter2', 'ghp_realtoken'])
      assert.ok(!json.includes(secret), secret);
    assert.deepEqual(
      spec.ports.map((p) => p.port),
      [4000],
    );
  });
});
