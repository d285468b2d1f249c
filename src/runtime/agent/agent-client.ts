// The agent protocol's client (src/wire/agent.ts): one HTTP/2 session to one workspace's agent.
// Everything the agent answers is untrusted: bodies are size-bounded and schema-checked, and an
// answer that does not fit is an error, never a guess.
import type { ClientHttp2Session, ClientHttp2Stream, SecureClientSessionOptions } from 'node:http2';
import { constants } from 'node:http2';
import type { Readable, Writable } from 'node:stream';
import { z } from 'zod';
import { NixSpaceError } from '../../errors.js';
import {
  AGENT_MAX_JSON_BYTES,
  AGENT_OFFSET_HEADER,
  type AgentHello,
  type AgentOutputStream,
  type AgentSignal,
  agentError,
  agentHello,
  type ProcessExit,
  type ProcessInfo,
  processExit,
  processInfo,
  processList,
  type SignalScope,
  type SpawnRequest,
} from '../../wire/agent.js';

/** The list of a busy workspace is the largest answer (thousands of processes). */
const maxAnswerBytes = 4 << 20;
const windowBytes = 4 << 20;

export const agentSessionOptions: SecureClientSessionOptions = {
  settings: { initialWindowSize: windowBytes, maxHeaderListSize: 16 * 1024 },
  maxHeaderListPairs: 64,
  maxSessionMemory: 64,
};

const emptyAnswer = z.object({});

export class AgentClient {
  #closed = false;

  private constructor(
    readonly session: ClientHttp2Session,
    readonly hello: AgentHello,
  ) {
    session.once('close', () => {
      this.#closed = true;
    });
    session.setLocalWindowSize(windowBytes);
  }

  /** Greets the agent on a fresh session; rejects if it does not answer as an agent of this protocol. */
  static async greet(session: ClientHttp2Session, timeoutMs: number): Promise<AgentClient> {
    const hello = await request(session, 'GET', '/v1/hello', undefined, agentHello, timeoutMs);
    return new AgentClient(session, hello);
  }

  get closed(): boolean {
    return this.#closed || this.session.closed || this.session.destroyed;
  }

  /**
   * Resolves with the round trip of an HTTP/2 PING once the agent answered it; rejects when it did
   * not within `timeoutMs` or the connection is gone. The agent's event loop answers, so a stopped or
   * wedged agent does not.
   */
  ping(timeoutMs: number): Promise<number> {
    if (this.closed) {
      return Promise.reject(new NixSpaceError('SANDBOX_FAILED', 'the workspace agent is not connected'));
    }
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () =>
          reject(
            new NixSpaceError('SANDBOX_FAILED', `the workspace agent did not answer within ${timeoutMs} ms`),
          ),
        timeoutMs,
      );
      const sent = this.session.ping((error, durationMs) => {
        clearTimeout(timer);
        if (error)
          reject(
            new NixSpaceError('SANDBOX_FAILED', `the workspace agent connection failed: ${error.message}`),
          );
        else resolve(durationMs);
      });
      if (!sent) {
        clearTimeout(timer);
        reject(new NixSpaceError('SANDBOX_FAILED', 'the workspace agent has too many pings unanswered'));
      }
    });
  }

  /** Drops the connection, and with it every request still open on it. */
  close(): void {
    this.#closed = true;
    this.session.destroy();
  }

  spawn(spec: SpawnRequest): Promise<ProcessInfo> {
    return this.#json('POST', '/v1/processes', spec, processInfo);
  }

  async list(): Promise<ProcessInfo[]> {
    return (await this.#json('GET', '/v1/processes', undefined, processList)).processes;
  }

  info(id: string): Promise<ProcessInfo> {
    return this.#json('GET', `/v1/processes/${encodeURIComponent(id)}`, undefined, processInfo);
  }

  /** Resolves when the process has ended (however long that takes). */
  exit(id: string): Promise<ProcessExit> {
    return this.#json('GET', `/v1/processes/${encodeURIComponent(id)}/exit`, undefined, processExit, 0);
  }

  async signal(id: string, signal: AgentSignal, scope: SignalScope = 'group'): Promise<void> {
    await this.#json(
      'POST',
      `/v1/processes/${encodeURIComponent(id)}/signal`,
      { signal, scope },
      emptyAnswer,
    );
  }

  async resize(id: string, cols: number, rows: number): Promise<void> {
    await this.#json('POST', `/v1/processes/${encodeURIComponent(id)}/resize`, { cols, rows }, emptyAnswer);
  }

  async ack(id: string, stream: AgentOutputStream, offset: number): Promise<void> {
    await this.#json('POST', `/v1/processes/${encodeURIComponent(id)}/ack`, { stream, offset }, emptyAnswer);
  }

  /** Kills the process if it runs, and the agent forgets it. */
  async forget(id: string): Promise<void> {
    await this.#json('DELETE', `/v1/processes/${encodeURIComponent(id)}`, undefined, emptyAnswer);
  }

  /**
   * The stream's bytes from `from` on, until the program closes it (the readable ends) or the
   * connection is lost (it errors). `offset` is where they really start: later than `from` if the
   * agent dropped bytes.
   */
  async output(
    id: string,
    stream: AgentOutputStream,
    from: number,
  ): Promise<{ offset: number; bytes: Readable }> {
    const req = this.session.request({
      ':method': 'GET',
      ':path': `/v1/processes/${encodeURIComponent(id)}/output/${stream}?from=${from}`,
    });
    req.end();
    const headers = await responseHeaders(req, 30_000);
    const status = Number(headers[':status']);
    if (status !== 200) throw await errorOf(req, status);
    const offset = Number(headers[AGENT_OFFSET_HEADER]);
    if (!Number.isSafeInteger(offset) || offset < from) {
      req.destroy();
      throw new NixSpaceError('SANDBOX_FAILED', `the agent answered a bad output offset for ${id}`);
    }
    return { offset, bytes: req };
  }

  /**
   * A byte stream both ways to the Unix socket at `socketPath` inside the workspace, once the
   * agent has connected to it; rejects naming why it could not (nothing listens there, say).
   */
  async connect(socketPath: string): Promise<ClientHttp2Stream> {
    if (this.closed) throw new NixSpaceError('SANDBOX_FAILED', 'the workspace agent is not connected');
    const req = this.session.request(
      { ':method': 'POST', ':path': `/v1/connections?socket=${encodeURIComponent(socketPath)}` },
      { endStream: false },
    );
    const headers = await responseHeaders(req, 30_000);
    const status = Number(headers[':status']);
    if (status !== 200) throw await errorOf(req, status);
    return req;
  }

  /** A stream whose bytes go to the process's stdin in order; `end` closes stdin when it ends. */
  input(id: string, options: { end?: boolean } = {}): Writable {
    const req = this.session.request({
      ':method': 'POST',
      ':path': `/v1/processes/${encodeURIComponent(id)}/input${options.end ? '?end=1' : ''}`,
    });
    req.on('error', () => undefined);
    req.resume();
    return req;
  }

  #json<T>(
    method: string,
    path: string,
    body: unknown,
    schema: z.ZodType<T>,
    timeoutMs = 30_000,
  ): Promise<T> {
    if (this.closed) {
      return Promise.reject(new NixSpaceError('SANDBOX_FAILED', 'the workspace agent is not connected'));
    }
    return request(this.session, method, path, body, schema, timeoutMs);
  }
}

async function request<T>(
  session: ClientHttp2Session,
  method: string,
  path: string,
  body: unknown,
  schema: z.ZodType<T>,
  timeoutMs: number,
): Promise<T> {
  const req = session.request({
    ':method': method,
    ':path': path,
    ...(body === undefined ? {} : { 'content-type': 'application/json' }),
  });
  req.end(body === undefined ? undefined : JSON.stringify(body));
  const headers = await responseHeaders(req, timeoutMs);
  const status = Number(headers[':status']);
  if (status < 200 || status >= 300) throw await errorOf(req, status);
  const value = await readBody(req, maxAnswerBytes);
  const parsed = schema.safeParse(value);
  if (!parsed.success) {
    throw new NixSpaceError(
      'SANDBOX_FAILED',
      `the workspace agent answered ${method} ${path} with something else`,
      {
        detail: parsed.error.message.slice(0, 2000),
      },
    );
  }
  return parsed.data;
}

function responseHeaders(req: ClientHttp2Stream, timeoutMs: number): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    const timer =
      timeoutMs > 0
        ? setTimeout(() => {
            req.close(constants.NGHTTP2_CANCEL);
            reject(
              new NixSpaceError(
                'SANDBOX_FAILED',
                `the workspace agent did not answer within ${timeoutMs} ms`,
              ),
            );
          }, timeoutMs)
        : undefined;
    req.once('response', (headers) => {
      clearTimeout(timer);
      resolve(headers as Record<string, unknown>);
    });
    req.once('error', (error) => {
      clearTimeout(timer);
      reject(new NixSpaceError('SANDBOX_FAILED', `the workspace agent connection failed: ${error.message}`));
    });
    req.once('close', () => {
      clearTimeout(timer);
      reject(new NixSpaceError('SANDBOX_FAILED', 'the workspace agent connection closed'));
    });
  });
}

async function readBody(req: ClientHttp2Stream, limit: number): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > limit) {
      req.destroy();
      throw new NixSpaceError('SANDBOX_FAILED', `the workspace agent's answer is over ${limit} bytes`);
    }
    chunks.push(chunk as Buffer);
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch {
    throw new NixSpaceError('SANDBOX_FAILED', 'the workspace agent answered something that is not JSON');
  }
}

async function errorOf(req: ClientHttp2Stream, status: number): Promise<NixSpaceError> {
  const body = agentError.safeParse(await readBody(req, AGENT_MAX_JSON_BYTES).catch(() => undefined));
  const message = body.success ? body.data.error.message : `status ${status}`;
  const code =
    status === 404
      ? 'NOT_FOUND'
      : status === 409
        ? 'CONFLICT'
        : status === 400
          ? 'BAD_REQUEST'
          : 'SANDBOX_FAILED';
  return new NixSpaceError(code, `the workspace agent refused: ${message}`, {
    ...(body.success ? { detail: body.data.error.code } : {}),
  });
}
