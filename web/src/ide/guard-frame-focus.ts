// A frame takes the keyboard only from the person's hand. VS Code focuses its editor whenever its
// workbench (re)loads, as after a switch restarts it; keys meant for the terminal would then be
// typed into a file. When the focus moves into a watched frame with no press inside it (or Tab)
// just before, it goes back to where the person had it: the same element, or, when that pane was
// rendered anew meanwhile (a switch remounts the terminal), the same pane (`data-focus-home`).
// A key that reaches the frame before that is dropped, never typed into a file.

/** How long after Tab a move of the focus into a frame counts as asked for. */
const intentMs = 1000;

let tabAt = 0;
/** The person chose the frame (pressed in it, tabbed into it, or had nothing else focused). */
let inFrame = false;
let lastFocused: HTMLElement | null = null;
let lastHome: string | null = null;
const frames = new Set<HTMLIFrameElement>();

function whereItWas(): HTMLElement | null {
  if (lastFocused?.isConnected) return lastFocused;
  if (lastHome === null) return null;
  const home = document.querySelector(`[data-focus-home="${lastHome}"]`);
  return home?.querySelector<HTMLElement>('textarea, input, [tabindex]:not([tabindex="-1"])') ?? null;
}

/** The focus is in a frame: keep it there if the person chose it, else give it back. */
function giveBack(): void {
  if (inFrame || !frames.has(document.activeElement as HTMLIFrameElement)) return;
  const back = whereItWas();
  if (Date.now() - tabAt < intentMs || back === null) inFrame = true;
  else back.focus({ preventScroll: true });
}

function listen(): void {
  document.addEventListener('focusin', (event) => {
    const target = event.target;
    if (!(target instanceof HTMLElement) || frames.has(target as HTMLIFrameElement)) return;
    inFrame = false;
    lastFocused = target;
    lastHome = target.closest<HTMLElement>('[data-focus-home]')?.dataset.focusHome ?? null;
  });
  document.addEventListener(
    'keydown',
    (event) => {
      if (event.key === 'Tab') tabAt = Date.now();
    },
    true,
  );
  // The frame's own focus event gives the focus back at once; this catches a browser sending none.
  document.addEventListener('focusout', () => setTimeout(giveBack, 0), true);
}

let listening = false;

/** Watches a frame; call `loaded` on each of its loads. Returns what stops watching it. */
export function guardFrameFocus(frame: HTMLIFrameElement): { loaded(): void; dispose(): void } {
  if (!listening) {
    listen();
    listening = true;
  }
  frames.add(frame);
  frame.addEventListener('focus', giveBack);
  return {
    loaded() {
      // Each new document of the frame gets the listeners that see the person's hand in it.
      const inner = frame.contentWindow;
      if (!inner) return;
      const chose = () => {
        inFrame = true;
      };
      for (const type of ['pointerdown', 'mousedown', 'touchstart'] as const) {
        inner.addEventListener(type, chose, { capture: true, passive: true });
      }
      inner.addEventListener(
        'keydown',
        (event) => {
          if (inFrame) return;
          event.preventDefault();
          event.stopImmediatePropagation();
          giveBack();
        },
        true,
      );
    },
    dispose() {
      frames.delete(frame);
      frame.removeEventListener('focus', giveBack);
    },
  };
}
