import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { keysForHost, validateKnownHosts } from './known-hosts.js';

const key = 'AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl';
const other = 'AAAAC3NzaC1lZDI1NTE5AAAAIBZp3E2UuxV5Hrx9ZoeHJNBJZ8mmBrYzGpCmLDpWk6Ey';

describe('known_hosts matching', () => {
  it('matches a plain host on port 22 and [host]:port on other ports', () => {
    const text = `build.example.com ssh-ed25519 ${key}\n[build.example.com]:2222 ssh-ed25519 ${other}\n`;
    assert.deepEqual(
      keysForHost(text, 'build.example.com', 22).map((k) => k.key.toString('base64')),
      [key],
    );
    assert.deepEqual(
      keysForHost(text, 'build.example.com', 2222).map((k) => k.key.toString('base64')),
      [other],
    );
    assert.deepEqual(keysForHost(text, 'other.example.com', 22), []);
  });

  it('honours wildcards and negations', () => {
    const text = `*.example.com,!evil.example.com ssh-ed25519 ${key}\n`;
    assert.equal(keysForHost(text, 'ci.example.com', 22).length, 1);
    assert.equal(keysForHost(text, 'evil.example.com', 22).length, 0);
  });

  it('matches entries hashed by ssh-keygen -H, and never trusts revoked or CA lines', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'nixspace-known-hosts-'));
    try {
      const file = join(dir, 'known_hosts');
      await writeFile(file, `[10.0.0.7]:2200 ssh-ed25519 ${key}\n`);
      execFileSync('ssh-keygen', ['-H', '-f', file], { stdio: 'ignore' });
      const hashed = await readFile(file, 'utf8');
      assert.match(hashed, /^\|1\|/);
      assert.equal(keysForHost(hashed, '10.0.0.7', 2200).length, 1);
      assert.equal(keysForHost(hashed, '10.0.0.7', 22).length, 0);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
    const marked = `@revoked host ssh-ed25519 ${key}\n@cert-authority host ssh-ed25519 ${other}\n`;
    assert.deepEqual(keysForHost(marked, 'host', 22), []);
  });

  it('rejects text that holds no host key, naming the bad line', () => {
    assert.throws(() => validateKnownHosts('# only a comment\n'), /no host key/);
    assert.throws(() => validateKnownHosts(`host ssh-ed25519 ${key}\nnot a line\n`), /line 2/);
    assert.equal(validateKnownHosts(`host ssh-ed25519 ${key}\n`), 1);
  });
});
