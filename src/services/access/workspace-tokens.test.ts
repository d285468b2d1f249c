import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { SignJWT } from 'jose';
import { WorkspaceTokens } from './workspace-tokens.js';

describe('workspace tokens', () => {
  let dir = '';
  const opened: WorkspaceTokens[] = [];
  const workspaceId = randomUUID();
  const claims = { holder: 'owner', workspaceId, sessionId: randomUUID() };

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'nixspace-tokens-'));
  });

  after(async () => {
    for (const tokens of opened) tokens.close();
    await rm(dir, { recursive: true, force: true });
  });

  async function open(options: Parameters<typeof WorkspaceTokens.open>[1] = {}) {
    const tokens = await WorkspaceTokens.open(join(dir, `${randomUUID()}.key`), options);
    opened.push(tokens);
    return tokens;
  }

  const code = (promise: Promise<unknown>) =>
    promise.then(
      () => 'accepted',
      (error: { code?: string }) => error.code,
    );

  it('names the session or the link it was issued for, and refuses to be issued for neither', async () => {
    const tokens = await open();
    const { token } = await tokens.issue(claims);
    const verified = await tokens.verify(token, workspaceId);
    assert.equal(verified.sessionId, claims.sessionId);
    assert.equal(verified.linkId, undefined);
    assert.equal(await code(tokens.issue({ holder: 'owner', workspaceId })), 'INTERNAL');
  });

  it('refuses a token tied to neither a session nor a link, even signed with the key', async () => {
    const file = join(dir, 'untied.key');
    const tokens = await WorkspaceTokens.open(file);
    opened.push(tokens);
    const stored = JSON.parse(await readFile(file, 'utf8')) as { keys: { kid: string; key: string }[] };
    const key = stored.keys[0]!;
    // What a leaked key forged before tokens were tied to anything: an owner token of no session.
    const forged = await new SignJWT({ scope: 'ide', role: 'owner' })
      .setProtectedHeader({ alg: 'HS256', kid: key.kid })
      .setIssuer('nixspace')
      .setSubject('someone')
      .setAudience(`workspace:${workspaceId}`)
      .setIssuedAt()
      .setExpirationTime('5m')
      .sign(new Uint8Array(Buffer.from(key.key, 'base64url')));
    assert.equal(await code(tokens.verify(forged, workspaceId)), 'UNAUTHENTICATED');
  });

  it('keeps tokens of the old key working until they expire after a scheduled rotation, and none after one by command', async () => {
    const tokens = await open();
    const { token } = await tokens.issue(claims);
    await tokens.rotate({ immediately: false });
    assert.equal(await code(tokens.verify(token, workspaceId)), 'accepted');
    const renewed = await tokens.issue(claims);
    await tokens.rotate({ immediately: true });
    assert.equal(await code(tokens.verify(token, workspaceId)), 'UNAUTHENTICATED');
    assert.equal(await code(tokens.verify(renewed.token, workspaceId)), 'UNAUTHENTICATED');
    assert.equal(await code(tokens.verify((await tokens.issue(claims)).token, workspaceId)), 'accepted');
  });

  it('refuses a token whose old key has retired after a scheduled rotation', async () => {
    // Tokens live 1 s, so the old key retires 1 s after the rotation.
    const tokens = await open({ ttlSeconds: 1 });
    const { token } = await tokens.issue(claims);
    await tokens.rotate({ immediately: false });
    const deadline = Date.now() + 10_000;
    while ((await code(tokens.verify(token, workspaceId, { ignoreExpiry: true }))) === 'accepted') {
      assert.ok(Date.now() < deadline, 'the old key retired');
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    assert.equal(await code(tokens.verify(token, workspaceId, { ignoreExpiry: true })), 'UNAUTHENTICATED');
  });

  it('rotates the key on its schedule, and a restart keeps the keys', async () => {
    const file = join(dir, 'scheduled.key');
    const tokens = await WorkspaceTokens.open(file, { rotateEveryMs: 200 });
    opened.push(tokens);
    const kidOf = async () =>
      (JSON.parse(await readFile(file, 'utf8')) as { keys: { kid: string }[] }).keys[0]!.kid;
    const first = await kidOf();
    const { token } = await tokens.issue(claims);
    const deadline = Date.now() + 10_000;
    while ((await kidOf()) === first) {
      assert.ok(Date.now() < deadline, 'the key rotated on its schedule');
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    tokens.close();
    const restarted = await WorkspaceTokens.open(file);
    opened.push(restarted);
    assert.equal(await code(restarted.verify(token, workspaceId)), 'accepted', 'within the overlap');
    assert.equal(await code(restarted.verify((await tokens.issue(claims)).token, workspaceId)), 'accepted');
  });

  it('replaces a key file from before keys rotated: the old key signs nothing and verifies nothing', async () => {
    const file = join(dir, 'legacy.key');
    const legacy = Buffer.alloc(32, 7);
    await writeFile(file, `${legacy.toString('base64url')}\n`);
    const old = await new SignJWT({ scope: 'ide', role: 'owner', sid: claims.sessionId })
      .setProtectedHeader({ alg: 'HS256' })
      .setIssuer('nixspace')
      .setSubject('owner')
      .setAudience(`workspace:${workspaceId}`)
      .setIssuedAt()
      .setExpirationTime('5m')
      .sign(new Uint8Array(legacy));
    const tokens = await WorkspaceTokens.open(file);
    opened.push(tokens);
    assert.equal(await code(tokens.verify(old, workspaceId)), 'UNAUTHENTICATED');
    assert.doesNotMatch(await readFile(file, 'utf8'), new RegExp(legacy.toString('base64url')));
  });
});
