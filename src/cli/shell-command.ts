// `nixspace shell WORKSPACE`: a shell in the workspace from the local terminal, relayed through
// the terminal WebSocket (binary frames are terminal bytes, text frames JSON control). The local
// terminal is in raw mode while it runs, follows window size changes (SIGWINCH), and is restored
// however the shell ends; the command exits with the shell's status.

import { parseCommand } from './command-args.js';
import { type ServerClient, withServer } from './server-client.js';
import { resolveWorkspace } from './workspace-target.js';

export const shellUsage = `Usage: nixspace shell WORKSPACE [--server URL | --data-dir DIR]

Opens a shell in a running workspace, in this terminal. Exits with the shell's exit status.
`;

type Control =
  | { type: 'hello'; terminalId: string }
  | { type: 'exit'; code: number | null }
  | { type: 'error'; code: string; message: string }
  | { type: 'read-only' | 'waiting'; message: string };

export async function runShell(args: string[]): Promise<number> {
  const parsed = parseCommand(args, {
    name: 'shell',
    usage: shellUsage,
    needs: 'one workspace',
    positionals: 1,
    options: {},
  });
  if (typeof parsed === 'number') return parsed;
  const target = parsed.positionals[0]!;
  return withServer(parsed.values, async (client) =>
    relay(client, (await resolveWorkspace(client, target)).id),
  );
}

function size(): { cols: number; rows: number } {
  return { cols: process.stdout.columns || 80, rows: process.stdout.rows || 24 };
}

async function relay(client: ServerClient, id: string): Promise<number> {
  const { cols, rows } = size();
  const socket = await client.socket(`/api/workspaces/${id}/terminal?cols=${cols}&rows=${rows}`);
  const stdin = process.stdin;
  const raw = stdin.isTTY === true;
  let exitCode: number | undefined;
  let failure: string | undefined;

  const onInput = (chunk: Buffer) => {
    if (socket.readyState === socket.OPEN) socket.send(chunk, { binary: true });
  };
  // Node re-reads the window size on SIGWINCH and then emits 'resize'.
  const onResize = () => {
    if (socket.readyState === socket.OPEN) socket.send(JSON.stringify({ type: 'resize', ...size() }));
  };
  const onSignal = () => socket.close();

  socket.once('open', () => {
    if (raw) stdin.setRawMode(true);
    stdin.on('data', onInput);
    stdin.resume();
    process.stdout.on('resize', onResize);
    process.once('SIGTERM', onSignal);
    process.once('SIGHUP', onSignal);
  });
  socket.on('message', (data: Buffer, isBinary: boolean) => {
    if (isBinary) return void process.stdout.write(data);
    const message = JSON.parse(data.toString('utf8')) as Control;
    if (message.type === 'exit') exitCode = message.code ?? 1;
    else if (message.type === 'error') failure = `${message.code}: ${message.message}`;
    else if (message.type === 'read-only' || message.type === 'waiting') {
      process.stderr.write(`\r\nnixspace: ${message.message}\r\n`);
    }
  });
  return new Promise((resolve) => {
    const restore = () => {
      stdin.off('data', onInput);
      if (raw) stdin.setRawMode(false);
      stdin.pause();
      process.stdout.off('resize', onResize);
      process.off('SIGTERM', onSignal);
      process.off('SIGHUP', onSignal);
    };
    socket.once('error', (error) => {
      failure ??= `the terminal connection failed: ${error.message}`;
    });
    socket.once('close', (code) => {
      restore();
      if (exitCode !== undefined) return resolve(exitCode);
      process.stderr.write(`nixspace: ${failure ?? `the terminal connection closed (${code})`}\n`);
      resolve(1);
    });
  });
}
