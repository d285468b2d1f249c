// `.env` support: the variables a repo's example env files offer to the workspace. Secret-looking
// values never enter the spec (so neither its hash nor any log line can carry them).

import type { DetectContext, Detector, Fragment } from '../detector.js';
import type { EnvVar, Port } from '../env-spec.js';

/** Example files first: they are written to be copied into a workspace. */
const envFileOrder = [
  '.env.example',
  '.env.sample',
  '.env.template',
  '.env.dist',
  '.env.defaults',
  '.env.local.example',
  '.env.development.example',
  '.env.development',
  '.env.dev',
  '.env',
];

export function envFileCandidates(ctx: DetectContext): string[] {
  return envFileOrder.filter((f) => ctx.has(f) && ctx.root.get(f)?.kind !== 'dir');
}

export interface EnvLine {
  name: string;
  value: string;
  line: number;
}

/** dotenv syntax: `export KEY=value`, quotes, trailing comments on unquoted values. */
export function parseEnvFile(text: string): EnvLine[] {
  const out: EnvLine[] = [];
  text.split('\n').forEach((raw, i) => {
    const m = /^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_.]*)\s*=\s*(.*)$/.exec(raw);
    if (!m?.[1]) return;
    let value = (m[2] ?? '').trim();
    const quote = value[0];
    if ((quote === '"' || quote === "'") && value.lastIndexOf(quote) > 0) {
      value = value.slice(1, value.lastIndexOf(quote));
    } else {
      value = value.replace(/\s+#.*$/, '');
    }
    out.push({ name: m[1], value, line: i + 1 });
  });
  return out;
}

const secretName =
  /(SECRET|TOKEN|PASSW(OR)?D|PASSPHRASE|PRIVATE|CREDENTIAL|API_?KEY|ACCESS_KEY|AUTH|SALT|SIGNING|ENCRYPTION|(^|_)KEY$|(^|_)DSN$)/i;

/** Named like a secret, or a URL carrying a password. */
export function isSecret(name: string, value: string): boolean {
  return secretName.test(name) || /:\/\/[^/\s:@]+:[^/\s@]+@/.test(value);
}

export const envFilesDetector: Detector = {
  name: 'env-files',
  async detect(ctx): Promise<Fragment> {
    const env: EnvVar[] = [];
    const ports: Port[] = [];
    const seen = new Set<string>();
    for (const file of envFileCandidates(ctx)) {
      const text = await ctx.read(file);
      if (text === null) continue;
      for (const v of parseEnvFile(text)) {
        if (seen.has(v.name)) continue;
        seen.add(v.name);
        const secret = isSecret(v.name, v.value);
        env.push({ name: v.name, value: secret ? null : v.value, secret, source: { file, line: v.line } });
        const port = Number(v.value);
        if (v.name === 'PORT' && Number.isInteger(port) && port >= 1 && port <= 65535) {
          ports.push({ port, label: 'app', source: { file, line: v.line } });
        }
      }
    }
    return { env, ports };
  },
};
