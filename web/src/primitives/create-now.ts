// A clock signal that ticks only while `active` is true, for live elapsed times.
import { type Accessor, createEffect, createSignal, onCleanup } from 'solid-js';

export function createNow(intervalMs: number, active: Accessor<boolean> = () => true): Accessor<number> {
  const [now, setNow] = createSignal(Date.now());
  createEffect(() => {
    if (!active()) return;
    setNow(Date.now());
    const timer = window.setInterval(() => setNow(Date.now()), intervalMs);
    onCleanup(() => window.clearInterval(timer));
  });
  return now;
}
