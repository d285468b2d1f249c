// xterm.js colours taken from the page's CSS custom properties, so the terminal follows light/dark.
import type { ITheme } from '@xterm/xterm';

export function readTerminalTheme(): ITheme {
  // Read from the root, where the tokens live: the terminal's own element may not be attached yet.
  const style = getComputedStyle(document.documentElement);
  const value = (name: string) => style.getPropertyValue(name).trim() || undefined;
  return {
    background: value('--terminal-bg'),
    foreground: value('--terminal-fg'),
    cursor: value('--terminal-cursor'),
    cursorAccent: value('--terminal-bg'),
    selectionBackground: value('--terminal-selection'),
  };
}
