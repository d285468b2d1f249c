// The agent's HTTP/2 routes (src/wire/agent.ts has the contract): JSON in and out for control,
// raw bytes for a process's output and input, one stream each.
import type { Http2ServerRequest, Http2ServerResponse } from 'node:http2';
import type { z } from 'zod';
import {
  AGENT_MAX_JSON_BYTES,
  AGENT_OFFSET_HEADER,
  type AgentHello,
  ackRequest,
  outputStreamName,
  resizeRequest,
  signalRequest,
  spawnRequest,
} from '../wire/agent.js';
import { connectTo } from './agent-connections.js';
import { AgentProcessError, type AgentProcesses } from './agent-processes.js';
import type { OutputBuffer } from './output-buffer.js';

export function agentRoutes(processes: AgentProcesses, hello: AgentHello) {
  return (req: Http2ServerRequest, res: Http2ServerResponse): void => {
    route(processes, hello, req, res).catch((error: unknown) => {
      const known = error instanceof AgentProcessError;
      if (res.headersSent) {
        res.stream.close();
        return;
      }
      sendJson(res, known ? error.status : 500, {
        error: { code: known ? error.code : 'INTERNAL', message: String((error as Error)?.message ?? error) },
      });
    });
  };
}

async function route(
  processes: AgentProcesses,
  hello: AgentHello,
  req: Http2ServerRequest,
  res: Http2ServerResponse,
): Promise<void> {
  const url = new URL(req.url, 'http://agent');
  const parts = url.pathname.split('/').filter(Boolean);
  if (parts[0] !== 'v1') throw new AgentProcessError(404, 'NOT_FOUND', `unknown protocol ${parts[0] ?? ''}`);
  const [resource, id, action, stream] = parts.slice(1);
  const method = req.method;
  if (resource === 'hello' && method === 'GET') return sendJson(res, 200, hello);
  if (resource === 'connections' && id === undefined && method === 'POST') {
    return connectTo(req, res, url.searchParams.get('socket'));
  }
  if (resource !== 'processes') throw new AgentProcessError(404, 'NOT_FOUND', `no route ${url.pathname}`);
  if (id === undefined) {
    if (method === 'GET') return sendJson(res, 200, { processes: processes.list() });
    if (method === 'POST')
      return sendJson(res, 201, await processes.spawn(await readJson(req, spawnRequest)));
  } else if (action === undefined) {
    if (method === 'GET') return sendJson(res, 200, processes.info(id));
    if (method === 'DELETE') {
      processes.forget(id);
      return sendJson(res, 200, {});
    }
  } else if (action === 'output' && method === 'GET') {
    const name = outputStreamName.parse(stream);
    const from = Number(url.searchParams.get('from') ?? '0');
    if (!Number.isSafeInteger(from) || from < 0)
      throw new AgentProcessError(400, 'BAD_REQUEST', 'bad offset');
    return streamOutput(res, processes.output(id, name), from);
  } else if (action === 'input' && method === 'POST') {
    const running = processes.get(id);
    for await (const chunk of req) running.write(chunk as Buffer);
    if (url.searchParams.get('end') === '1') running.endInput();
    return sendJson(res, 200, {});
  } else if (action === 'ack' && method === 'POST') {
    const { stream: name, offset } = await readJson(req, ackRequest);
    processes.output(id, name).ack(offset);
    return sendJson(res, 200, {});
  } else if (action === 'signal' && method === 'POST') {
    const { signal, scope } = await readJson(req, signalRequest);
    processes.signal(id, signal, scope);
    return sendJson(res, 200, {});
  } else if (action === 'resize' && method === 'POST') {
    const { cols, rows } = await readJson(req, resizeRequest);
    processes.get(id).resize(cols, rows);
    return sendJson(res, 200, {});
  } else if (action === 'exit' && method === 'GET') {
    return sendJson(res, 200, await processes.get(id).exited);
  }
  throw new AgentProcessError(404, 'NOT_FOUND', `no route ${method} ${url.pathname}`);
}

/** Writes the stream from `from` until it closes; ends early if the reader fell behind a ring. */
async function streamOutput(res: Http2ServerResponse, buffer: OutputBuffer, from: number): Promise<void> {
  const gone = new AbortController();
  res.once('close', () => gone.abort());
  let position = Math.max(from, buffer.start);
  res.writeHead(200, { 'content-type': 'application/octet-stream', [AGENT_OFFSET_HEADER]: String(position) });
  while (!gone.signal.aborted) {
    const { offset, data } = buffer.slice(position);
    // Bytes were dropped under a slow reader: it asks again and learns where they start.
    if (offset > position) break;
    if (data.length > 0) {
      position += data.length;
      if (!res.write(data)) await drainOrClose(res);
      continue;
    }
    if (buffer.closed) break;
    await buffer.waitBeyond(position, gone.signal);
  }
  if (!gone.signal.aborted) res.end();
}

function drainOrClose(res: Http2ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      res.off('drain', done);
      res.off('close', done);
      resolve();
    };
    res.once('drain', done);
    res.once('close', done);
  });
}

async function readJson<T extends z.ZodType>(req: Http2ServerRequest, schema: T): Promise<z.output<T>> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > AGENT_MAX_JSON_BYTES) throw new AgentProcessError(413, 'TOO_LARGE', 'request body too large');
    chunks.push(chunk as Buffer);
  }
  let value: unknown;
  try {
    value = JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch {
    throw new AgentProcessError(400, 'BAD_REQUEST', 'the body is not JSON');
  }
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw new AgentProcessError(400, 'BAD_REQUEST', parsed.error.message.slice(0, 2000));
  return parsed.data;
}

function sendJson(res: Http2ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}
