// Problems found while reading a repository. Bad input never throws out of detection: it becomes
// a diagnostic naming the file (and line) so the user can fix the repo or override the spec.

import { z } from 'zod';

export const diagnosticCodeSchema = z.enum([
  /** A manifest (JSON, TOML, YAML) does not parse. */
  'malformed-manifest',
  /** Two files pin different versions of one toolchain. */
  'conflicting-pins',
  /** More than one package manager claims the project (lockfiles, packageManager field). */
  'conflicting-package-managers',
  /** A version string or alias that means nothing to us. */
  'unknown-version',
  /** A real version that NixSpace cannot build. */
  'unsupported-version',
  /** A service signal we chose not to act on (selectable database, optional extra). */
  'ambiguous-service',
  /** A file the repository has that detection does not read: a symlink, a FIFO, a device. */
  'unread-file',
  /** A detector threw: a bug in NixSpace, reported instead of failing the whole detection. */
  'detector-failed',
]);
export type DiagnosticCode = z.infer<typeof diagnosticCodeSchema>;

export const diagnosticSchema = z.object({
  severity: z.enum(['error', 'warning', 'info']),
  code: diagnosticCodeSchema,
  message: z.string(),
  file: z.string().optional(),
  line: z.number().int().positive().optional(),
});
export type Diagnostic = z.infer<typeof diagnosticSchema>;
