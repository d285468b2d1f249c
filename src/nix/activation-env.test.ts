import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { activationFromDevEnv } from './activation-env.js';

describe('activationFromDevEnv', () => {
  it('keeps exported variables, puts PATH first with the base PATH after it, and drops build-sandbox leftovers', () => {
    const dump = JSON.stringify({
      bashFunctions: {},
      variables: {
        ZED: { type: 'exported', value: 'z' },
        PATH: { type: 'exported', value: '/nix/store/a-node/bin:/path-not-set:/usr/bin' },
        HOME: { type: 'exported', value: '/homeless-shelter' },
        TMPDIR: { type: 'exported', value: '/tmp/nix-build-x' },
        BASH: { type: 'var', value: '/bin/bash' },
        buildInputs: { type: 'array', value: ['x'] },
        shellHook: { type: 'exported', value: 'echo hi' },
      },
    });
    const { env, shellHook } = activationFromDevEnv(dump, '/usr/local/bin:/usr/bin:/bin');
    assert.deepEqual(env, { PATH: '/nix/store/a-node/bin:/usr/bin:/usr/local/bin:/bin', ZED: 'z' });
    assert.deepEqual(Object.keys(env), ['PATH', 'ZED']);
    assert.equal(shellHook, 'echo hi');
  });
});
