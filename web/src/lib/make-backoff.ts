// Exponential reconnect delays with jitter, so many tabs do not reconnect in lockstep.

export interface Backoff {
  next(): number;
  reset(): void;
}

export function makeBackoff(options: { initialMs?: number; maxMs?: number } = {}): Backoff {
  const initial = options.initialMs ?? 500;
  const max = options.maxMs ?? 15_000;
  let attempt = 0;
  return {
    next() {
      const base = Math.min(max, initial * 2 ** attempt);
      attempt += 1;
      return Math.round(base / 2 + Math.random() * (base / 2));
    },
    reset() {
      attempt = 0;
    },
  };
}
