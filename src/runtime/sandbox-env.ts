// The environment a sandboxed process starts with: only what the spec and the caller give, never
// the server's own environment (which holds its secrets).
import type { SandboxSpec } from './sandbox.js';

const systemPath = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

export function sandboxEnv(spec: SandboxSpec, extra?: Record<string, string>): Record<string, string> {
  return { PATH: systemPath, HOME: spec.workspaceDir, LANG: 'C.UTF-8', ...spec.env, ...extra };
}
