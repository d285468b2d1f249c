// Whether a workspace's agent still answers. While its sandbox runs, the agent is pinged now and
// then; one that has neither answered nor dialled in for `deadlineMs` is declared unresponsive
// (stopped, wedged, or cut off while its box lives on), once. What follows — restarting the box —
// is the sandbox's and the workspace's to decide.
import type { AgentLink } from './agent-link.js';

export interface AgentWatchdogOptions {
  /** How long the agent may go without answering before it counts as not answering. */
  deadlineMs: number;
  /** How often it is pinged; default a fifth of the deadline, at most 15 s. */
  intervalMs?: number;
}

export class AgentWatchdog {
  readonly #link: AgentLink;
  readonly #deadlineMs: number;
  readonly #intervalMs: number;
  readonly #onUnresponsive: (reason: string) => void;
  #lastAnswer = performance.now();
  #timer: NodeJS.Timeout | undefined;
  #pinging = false;
  #done = false;
  readonly #offConnected: () => void;

  constructor(link: AgentLink, options: AgentWatchdogOptions, onUnresponsive: (reason: string) => void) {
    this.#link = link;
    this.#deadlineMs = options.deadlineMs;
    this.#intervalMs =
      options.intervalMs ?? Math.max(50, Math.min(15_000, Math.floor(options.deadlineMs / 5)));
    this.#onUnresponsive = onUnresponsive;
    // An agent dialling in again is an answer too.
    this.#offConnected = link.onConnected(() => {
      this.#lastAnswer = performance.now();
    });
    this.#schedule();
  }

  /** Ends the watch: the sandbox is stopping, or it was declared unresponsive. */
  stop(): void {
    this.#done = true;
    clearTimeout(this.#timer);
    this.#offConnected();
  }

  #schedule(): void {
    if (this.#done) return;
    this.#timer = setTimeout(() => void this.#tick(), this.#intervalMs);
    // The watch alone never keeps the server up.
    this.#timer.unref();
  }

  async #tick(): Promise<void> {
    if (this.#done || this.#pinging) return;
    const client = this.#link.client;
    if (client && !client.closed) {
      this.#pinging = true;
      try {
        await client.ping(this.#deadlineMs);
        this.#lastAnswer = performance.now();
      } catch {
        // Counted below: no answer since the last one.
      } finally {
        this.#pinging = false;
      }
    }
    if (this.#done) return;
    const silentMs = performance.now() - this.#lastAnswer;
    if (silentMs >= this.#deadlineMs) {
      this.stop();
      const seconds = Math.round(silentMs / 1000);
      this.#onUnresponsive(
        client && !client.closed
          ? `its agent did not answer for ${seconds} s`
          : `its agent has not been connected for ${seconds} s`,
      );
      return;
    }
    this.#schedule();
  }
}
