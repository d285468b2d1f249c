// Sandbox ids become cgroup directory names and words in wrapper scripts, so only a safe
// alphabet is accepted.
import { NixSpaceError } from '../errors.js';

const safeId = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/;

export function assertSandboxId(id: string): void {
  if (!safeId.test(id)) {
    throw new NixSpaceError('BAD_REQUEST', `invalid sandbox id ${JSON.stringify(id)}`, {
      detail: 'use letters, digits, dot, dash and underscore (at most 128 characters)',
    });
  }
}
