// The workspace agent's protocol (version 1): HTTP/2 over the one byte stream between the server
// and the agent inside a workspace. The agent dials the server and serves these routes; the server
// is the HTTP/2 client. Both sides parse every JSON body with these schemas, and the server also
// bounds every size: the agent runs inside the workspace and may say anything.
//
//   GET    /v1/hello                              → AgentHello
//   POST   /v1/processes          SpawnRequest    → ProcessInfo
//   GET    /v1/processes                          → ProcessList
//   GET    /v1/processes/:id                      → ProcessInfo
//   GET    /v1/processes/:id/output/:stream?from=N  the stream's bytes from offset N, until it ends
//                                                 (header `nixspace-offset`: where they start)
//   POST   /v1/processes/:id/input[?end=1]        the request's bytes to stdin (end: then EOF)
//   POST   /v1/processes/:id/ack  AckRequest      kept output before the offset may be dropped
//   POST   /v1/processes/:id/signal SignalRequest
//   POST   /v1/processes/:id/resize ResizeRequest
//   GET    /v1/processes/:id/exit                 → ProcessExit, once it has ended
//   DELETE /v1/processes/:id                      kills it if running and forgets it
//   POST   /v1/connections?socket=PATH            a byte stream both ways to the Unix socket PATH
//                                                 in the workspace (200 once connected); how the
//                                                 server reaches what listens in there (VS Code)
import { z } from 'zod';
import { AGENT_PROTOCOL } from './agent-names.js';

export * from './agent-names.js';

/** Process ids are the server's names for them: stable across a server restart. */
export const processId = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/, 'a process id');

export const outputStreamName = z.enum(['stdout', 'stderr']);
export type AgentOutputStream = z.infer<typeof outputStreamName>;

const signalName = z.enum(['SIGTERM', 'SIGKILL', 'SIGINT', 'SIGHUP', 'SIGQUIT', 'SIGUSR1', 'SIGUSR2']);

const envName = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'an environment variable name');

export const spawnRequest = z.object({
  id: processId,
  argv: z
    .array(z.string().max(128 * 1024))
    .min(1)
    .max(4096),
  cwd: z.string().startsWith('/').max(4096),
  env: z.record(envName, z.string().max(128 * 1024)),
  /** On a terminal of the agent's own (stdout only), else over pipes. */
  tty: z
    .object({ cols: z.number().int().min(2).max(1000), rows: z.number().int().min(1).max(500) })
    .optional(),
  /** Reads stdin from `input` requests; otherwise stdin is /dev/null. */
  stdin: z.boolean().default(false),
  /**
   * `ring`: the newest `bytes` of output are kept (a terminal's scrollback). `keep`: nothing is
   * dropped before the server acknowledges it; when `bytes` are unacknowledged the process waits.
   */
  output: z.object({
    mode: z.enum(['ring', 'keep']),
    bytes: z
      .number()
      .int()
      .min(1024)
      .max(64 << 20),
  }),
  /** A group of its own (a cgroup where the agent has them): killed whole by signal requests. */
  group: z
    .string()
    .regex(/^[A-Za-z0-9-]{1,64}$/)
    .optional(),
});
export type SpawnRequest = z.input<typeof spawnRequest>;

const streamRange = z.object({
  /** Offset of the oldest byte still kept. */
  start: z.number().int().min(0),
  /** Offset after the newest byte. */
  end: z.number().int().min(0),
  /** The program closed it: no byte comes after `end`. */
  closed: z.boolean(),
});

export const processExit = z.object({
  code: z.number().int().nullable(),
  signal: z.string().max(32).nullable(),
});
export type ProcessExit = z.infer<typeof processExit>;

export const processInfo = z.object({
  id: processId,
  pid: z.number().int().min(1),
  tty: z.boolean(),
  startedAt: z.string().max(64),
  output: z.object({ stdout: streamRange, stderr: streamRange.optional() }),
  exit: processExit.optional(),
});
export type ProcessInfo = z.infer<typeof processInfo>;

export const processList = z.object({ processes: z.array(processInfo).max(4096) });

export const agentHello = z.object({
  protocol: z.literal(AGENT_PROTOCOL),
  version: z.string().max(64),
  /** Changes each time the agent starts: a new one has none of the old one's processes. */
  bootId: z.string().max(64),
  pid: z.number().int().min(1),
});
export type AgentHello = z.infer<typeof agentHello>;

/** A Unix socket path the agent connects to for the server: absolute, within the kernel's 107 bytes. */
export const connectionTarget = z
  .string()
  .startsWith('/')
  .max(107)
  .refine((path) => !path.includes('\0'), 'a socket path');

export const ackRequest = z.object({ stream: outputStreamName, offset: z.number().int().min(0) });
export const signalRequest = z.object({
  signal: signalName,
  /** `group` (the default): its process group and its cgroup; `process`: the program alone. */
  scope: z.enum(['group', 'process']).default('group'),
});
export type SignalScope = z.infer<typeof signalRequest>['scope'];
export type AgentSignal = z.infer<typeof signalName>;
export const resizeRequest = z.object({
  cols: z.number().int().min(2).max(1000),
  rows: z.number().int().min(1).max(500),
});

export const agentError = z.object({
  error: z.object({ code: z.string().max(64), message: z.string().max(4096) }),
});
