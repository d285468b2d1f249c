// A job's output: ANSI colours rendered, stdout / stderr / system told apart by colour and by a
// gutter mark, virtualised over fixed-height rows so 100k+ lines stay smooth. It follows new
// output unless scroll lock is off or the reader scrolled up; pause freezes what is shown.
import { createEffect, createMemo, createSignal, For, on, Show } from 'solid-js';
import { parseAnsi } from '../../lib/ansi';
import type { LogLine } from '../../lib/job-output';

const ROW_PX = 18;
const OVERSCAN = 20;
const MARK = { stdout: ' ', stderr: '!', system: '›' } as const;

export function LogViewer(props: { lines: () => readonly LogLine[]; version: () => number; label: string }) {
  let scroller: HTMLDivElement | undefined;
  const [scrollTop, setScrollTop] = createSignal(0);
  const [height, setHeight] = createSignal(400);
  const [follow, setFollow] = createSignal(true);
  const [paused, setPaused] = createSignal<number | null>(null);

  const total = createMemo(() => {
    props.version();
    return props.lines().length;
  });
  const shown = () => paused() ?? total();
  const range = createMemo(() => {
    const first = Math.max(0, Math.floor(scrollTop() / ROW_PX) - OVERSCAN);
    const last = Math.min(shown(), Math.ceil((scrollTop() + height()) / ROW_PX) + OVERSCAN);
    return { first, last };
  });
  const rows = createMemo(() => {
    props.version();
    const { first, last } = range();
    return props
      .lines()
      .slice(first, last)
      .map((line, i) => ({ line, index: first + i }));
  });

  createEffect(
    on([shown, follow], () => {
      if (!scroller || !follow()) return;
      scroller.scrollTop = scroller.scrollHeight;
      setScrollTop(scroller.scrollTop);
    }),
  );

  const onScroll = () => {
    if (!scroller) return;
    setScrollTop(scroller.scrollTop);
    setHeight(scroller.clientHeight);
    const atBottom = scroller.scrollHeight - scroller.scrollTop - scroller.clientHeight < ROW_PX * 2;
    if (!atBottom && follow()) setFollow(false);
  };

  return (
    <section class="log-viewer" aria-label={props.label} data-testid="log-viewer">
      <div class="log-viewer-tools">
        <span class="muted" data-testid="log-line-count">
          {shown()} lines
        </span>
        <label class="log-toggle">
          <input
            type="checkbox"
            checked={follow()}
            onChange={(e) => setFollow(e.currentTarget.checked)}
            data-testid="log-follow"
          />
          Scroll lock (follow output)
        </label>
        <button
          type="button"
          class="button button-small"
          aria-pressed={paused() !== null}
          onClick={() => setPaused(paused() === null ? total() : null)}
          data-testid="log-pause"
        >
          <Show when={paused() !== null} fallback="Pause">
            Resume ({total() - (paused() ?? 0)} new)
          </Show>
        </button>
        <span class="log-legend" aria-hidden="true">
          <span data-stream="stdout">stdout</span>
          <span data-stream="stderr">! stderr</span>
          <span data-stream="system">› system</span>
        </span>
      </div>
      <div
        class="log-viewer-scroll"
        ref={(el) => {
          scroller = el;
          queueMicrotask(() => setHeight(el.clientHeight || 400));
        }}
        onScroll={onScroll}
        tabindex="0"
        role="log"
        aria-live="off"
      >
        <div class="log-viewer-space" style={{ height: `${shown() * ROW_PX}px` }}>
          <div class="log-viewer-rows" style={{ transform: `translateY(${range().first * ROW_PX}px)` }}>
            <For each={rows()}>
              {(row) => (
                <div
                  class="log-row"
                  data-stream={row.line.stream}
                  data-continued={row.line.continued ? '' : undefined}
                  data-testid="log-row"
                >
                  <span class="log-mark" aria-hidden="true">
                    {row.line.continued ? '↪' : MARK[row.line.stream]}
                  </span>
                  <Show when={row.line.stream !== 'stdout'}>
                    <span class="visually-hidden">{row.line.stream}: </span>
                  </Show>
                  <span class="log-row-text">
                    <For each={parseAnsi(row.line.text).segments}>
                      {(segment) => (
                        <span
                          style={{
                            color: segment.style.fg,
                            'background-color': segment.style.bg,
                            'font-weight': segment.style.bold ? 'bold' : undefined,
                            opacity: segment.style.dim ? 0.7 : undefined,
                            'font-style': segment.style.italic ? 'italic' : undefined,
                            'text-decoration': segment.style.underline ? 'underline' : undefined,
                          }}
                        >
                          {segment.text}
                        </span>
                      )}
                    </For>
                  </span>
                </div>
              )}
            </For>
          </div>
        </div>
      </div>
    </section>
  );
}
