// The workspace shell: an xterm.js terminal (DOM renderer) that fills its container and follows its size.
import { FitAddon } from '@xterm/addon-fit';
import { Terminal } from '@xterm/xterm';
import '@xterm/xterm/css/xterm.css';
import { createSignal, onCleanup, onMount, Show } from 'solid-js';
import { makeTerminalSession, type TerminalSession, type TerminalState } from './make-terminal-session';
import { readTerminalTheme } from './terminal-theme';

export function TerminalPane(props: { workspaceId: string; readOnly?: boolean }) {
  let container!: HTMLDivElement;
  const [state, setState] = createSignal<TerminalState>({ kind: 'connecting' });
  let session: TerminalSession | undefined;

  onMount(() => {
    const terminal = new Terminal({
      cursorBlink: true,
      fontFamily: 'ui-monospace, "SF Mono", "Cascadia Code", "JetBrains Mono", Menlo, Consolas, monospace',
      fontSize: 14,
      lineHeight: 1.2,
      scrollback: 5000,
      theme: readTerminalTheme(),
      disableStdin: props.readOnly === true,
    });
    const fit = new FitAddon();
    terminal.loadAddon(fit);
    terminal.open(container);
    fit.fit();

    // One observer covers window resizes and layout changes (an IDE pane opening beside it later).
    let frame: number | undefined;
    const observer = new ResizeObserver(() => {
      if (frame !== undefined) return;
      frame = window.requestAnimationFrame(() => {
        frame = undefined;
        fit.fit();
      });
    });
    observer.observe(container);

    const scheme = window.matchMedia('(prefers-color-scheme: dark)');
    const onSchemeChange = () => {
      terminal.options.theme = readTerminalTheme();
    };
    scheme.addEventListener('change', onSchemeChange);

    session = makeTerminalSession({
      workspaceId: props.workspaceId,
      terminal,
      readOnly: props.readOnly === true,
      onState: (next) => {
        setState(next);
        // The shell takes the keyboard when it (re)connects only if nothing else has it: a
        // reconnect never pulls the keys away from VS Code.
        const focused = document.activeElement;
        const free = !focused || focused === document.body || container.contains(focused);
        if (next.kind === 'connected' && !props.readOnly && free) terminal.focus();
      },
    });

    onCleanup(() => {
      session?.dispose();
      observer.disconnect();
      if (frame !== undefined) window.cancelAnimationFrame(frame);
      scheme.removeEventListener('change', onSchemeChange);
      terminal.dispose();
    });
  });

  const notice = (): { text: string; action?: string } | null => {
    const current = state();
    switch (current.kind) {
      case 'connected':
        return null;
      case 'connecting':
        return { text: 'Connecting to the shell…' };
      case 'reconnecting':
        return { text: 'Connection lost. Reconnecting…' };
      case 'not-running':
        return { text: 'The workspace is not running.' };
      case 'waiting':
        return { text: 'No terminal is open yet; the owner’s terminal appears here when they open one.' };
      case 'exited':
        return props.readOnly
          ? { text: `The shell exited with code ${current.code}; following the next one…` }
          : { text: `The shell exited with code ${current.code}.`, action: 'Start a new shell' };
      case 'failed':
        return { text: current.message, action: 'Try again' };
    }
  };

  return (
    <section
      class="terminal-pane"
      data-focus-home="terminal"
      aria-label={props.readOnly ? 'Terminal (read-only)' : 'Terminal'}
    >
      <div
        class="terminal-host"
        data-testid="terminal"
        data-state={state().kind}
        data-read-only={props.readOnly === true}
        ref={container}
      />
      <Show when={notice()}>
        {(current) => (
          <div class="terminal-notice" role="status" data-kind={state().kind}>
            <span>{current().text}</span>
            <Show when={current().action}>
              {(action) => (
                <button type="button" class="button button-small" onClick={() => session?.restart()}>
                  {action()}
                </button>
              )}
            </Show>
          </div>
        )}
      </Show>
    </section>
  );
}
