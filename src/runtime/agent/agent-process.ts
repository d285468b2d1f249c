// A process the workspace agent runs, as the server holds it: its output followed by offset across
// lost connections (a new one resumes where the last byte arrived), its input in order, its exit.
// The same object serves a process the server started and one it found again after a restart.
import type { Writable } from 'node:stream';
import { StringDecoder } from 'node:string_decoder';
import { setTimeout as sleep } from 'node:timers/promises';
import { NixSpaceError } from '../../errors.js';
import type {
  AgentOutputStream,
  AgentSignal,
  ProcessExit,
  ProcessInfo,
  SignalScope,
  SpawnRequest,
} from '../../wire/agent.js';
import type { AgentClient } from './agent-client.js';
import type { AgentLink } from './agent-link.js';

export interface Following {
  /** Settles when the stream has ended (every byte delivered), the process is gone, or `stop`. */
  readonly done: Promise<void>;
  stop(): void;
}

/** What `exited` resolves with when the agent no longer knows the process (it was restarted). */
export const LOST_EXIT: ProcessExit = { code: null, signal: null };

export class AgentProcess {
  readonly id: string;
  readonly pid: number;
  readonly tty: boolean;
  /** Settles once the process has ended, or the agent lost it (`lost` then says so). */
  readonly exited: Promise<ProcessExit>;
  #lost = false;
  /** Found again after a restart rather than started by this server. */
  #adopted = false;
  #input: { client: AgentClient; stream: Writable } | undefined;

  private constructor(
    private readonly link: AgentLink,
    readonly info: ProcessInfo,
  ) {
    this.id = info.id;
    this.pid = info.pid;
    this.tty = info.tty;
    this.exited = this.#waitExit();
  }

  static async spawn(link: AgentLink, request: SpawnRequest, signal?: AbortSignal): Promise<AgentProcess> {
    const client = await link.connected(signal ? { signal } : {});
    return new AgentProcess(link, await client.spawn(request));
  }

  /** A process the agent reported (found again after the server restarted). */
  static adopt(link: AgentLink, info: ProcessInfo): AgentProcess {
    const process = new AgentProcess(link, info);
    process.#adopted = true;
    return process;
  }

  /** The program the agent runs under `id` now, if one runs (not ended). */
  static async running(link: AgentLink, id: string): Promise<ProcessInfo | undefined> {
    const processes = await (await link.connected()).list();
    return processes.find((p) => p.id === id && p.exit === undefined);
  }

  /** Spawns `request`, after what is left under its id (an earlier start's exit) is forgotten. */
  static async respawn(link: AgentLink, request: SpawnRequest): Promise<AgentProcess> {
    const earlier = (await (await link.connected()).list()).find((p) => p.id === request.id);
    if (earlier) await new AgentProcess(link, earlier).forget();
    return AgentProcess.spawn(link, request);
  }

  /** The agent no longer knows it: it was restarted, and what it ran is gone. */
  get lost(): boolean {
    return this.#lost;
  }

  /**
   * Calls `onData` with each chunk of `stream` from offset `from` on, in order, each with its
   * offset, across lost connections, until the stream ends. A jump in offset is bytes the agent
   * dropped (a ring's oldest) before they could be read.
   */
  follow(stream: AgentOutputStream, from: number, onData: (data: Buffer, offset: number) => void): Following {
    const stopper = new AbortController();
    const done = this.#follow(stream, from, onData, stopper.signal);
    return { done, stop: () => stopper.abort() };
  }

  /**
   * Supervises a long-running program (code-server, a service): each whole line of its stdout and
   * stderr (UTF-8) to `onLine`, from where its output stands now when it was taken back after a
   * server restart (from the start otherwise), and `onExit` once it has ended.
   */
  watchLines(
    onLine: (line: string) => void,
    onExit: (exit: ProcessExit) => void,
  ): { stop(): void; ended: Promise<void> } {
    const from = this.#adopted ? this.info.output : { stdout: { end: 0 }, stderr: { end: 0 } };
    const following = (['stdout', 'stderr'] as const).map((stream) => {
      const decoder = new StringDecoder('utf8');
      let partial = '';
      return this.follow(stream, from[stream]?.end ?? 0, (data) => {
        const lines = (partial + decoder.write(data)).split('\n');
        partial = lines.pop() ?? '';
        for (const line of lines) onLine(line);
      });
    });
    const stop = () => {
      for (const follow of following) follow.stop();
    };
    const ended = this.exited.then((exit) => {
      stop();
      onExit(exit);
    });
    return { stop, ended };
  }

  /** Sends bytes to stdin (a terminal's keys), in order; dropped while the agent is away. */
  write(data: Buffer | string): void {
    const client = this.link.client;
    if (!client || client.closed || this.#lost) return;
    if (this.#input?.client !== client) {
      this.#input?.stream.destroy();
      this.#input = { client, stream: client.input(this.id) };
    }
    this.#input.stream.write(data);
  }

  /** Closes stdin after what `write` sent, once the agent has all of it. */
  async endInput(): Promise<void> {
    const open = this.#input;
    this.#input = undefined;
    if (open !== undefined && !open.stream.destroyed) {
      await new Promise<void>((resolve) => {
        open.stream.once('close', () => resolve());
        open.stream.end();
      });
    }
    await this.writeAndEnd('');
  }

  /** Sends `data` to stdin and then closes it. */
  async writeAndEnd(data: Buffer | string): Promise<void> {
    const client = await this.link.connected();
    const stream = client.input(this.id, { end: true });
    await new Promise<void>((resolve, reject) => {
      stream.once('error', reject);
      stream.end(data, () => resolve());
    });
  }

  resize(cols: number, rows: number): void {
    void this.link.client?.resize(this.id, cols, rows).catch(() => undefined);
  }

  /** To its process group (and cgroup) by default; `process`: to the program alone. */
  async signal(signal: AgentSignal, scope: SignalScope = 'group'): Promise<void> {
    const client = await this.link.connected();
    await client.signal(this.id, signal, scope);
  }

  /** Kept output before `offset` is in the server's hands: the agent may let it go. */
  ack(stream: AgentOutputStream, offset: number): void {
    void this.link.client?.ack(this.id, stream, offset).catch(() => undefined);
  }

  /** Kills it if it runs; the agent forgets it. */
  async forget(): Promise<void> {
    this.#input?.stream.destroy();
    const client = this.link.client;
    if (!client || client.closed) return;
    await client.forget(this.id).catch((error: unknown) => {
      if (!(error instanceof NixSpaceError && error.code === 'NOT_FOUND')) throw error;
    });
  }

  async #waitExit(): Promise<ProcessExit> {
    for (;;) {
      let client: AgentClient;
      try {
        client = await this.link.connected({ timeoutMs: 24 * 3600_000 });
      } catch {
        this.#lost = true;
        return LOST_EXIT;
      }
      try {
        return await client.exit(this.id);
      } catch (error) {
        if (error instanceof NixSpaceError && error.code === 'NOT_FOUND') {
          this.#lost = true;
          return LOST_EXIT;
        }
        await sleep(50);
      }
    }
  }

  async #follow(
    stream: AgentOutputStream,
    from: number,
    onData: (data: Buffer, offset: number) => void,
    stop: AbortSignal,
  ): Promise<void> {
    let position = from;
    while (!stop.aborted) {
      let client: AgentClient;
      try {
        client = await this.link.connected({ signal: stop, timeoutMs: 24 * 3600_000 });
      } catch {
        return;
      }
      try {
        const { offset, bytes } = await client.output(this.id, stream, position);
        position = offset;
        const onStop = () => bytes.destroy();
        stop.addEventListener('abort', onStop, { once: true });
        try {
          for await (const chunk of bytes) {
            onData(chunk as Buffer, position);
            position += (chunk as Buffer).length;
          }
        } finally {
          stop.removeEventListener('abort', onStop);
        }
        const range = (await client.info(this.id)).output[stream];
        if (range?.closed && position >= range.end) return;
      } catch (error) {
        if (error instanceof NixSpaceError && error.code === 'NOT_FOUND') return;
        if (!stop.aborted) await sleep(50);
      }
    }
  }
}
