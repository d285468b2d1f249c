// The arguments of a workspace command: its own options, --server / --data-dir and --help, and
// a fixed number of positionals. Help and misuse are answered here, with the command's usage.

import { type ParseArgsConfig, parseArgs } from 'node:util';
import { serverOptions } from './server-client.js';

type Options = NonNullable<ParseArgsConfig['options']>;

const common = { ...serverOptions, help: { type: 'boolean', short: 'h' } } as const;

export interface CommandSpec<O extends Options> {
  /** The command's name, for messages: `nixspace up needs …`. */
  name: string;
  usage: string;
  /** What the positionals are, for the message when they are missing: "one workspace". */
  needs: string;
  positionals: number;
  options: O;
}

/** The parsed arguments, or the exit code when help was asked for (0) or the usage is wrong (2). */
export function parseCommand<const O extends Options>(args: string[], spec: CommandSpec<O>) {
  const parsed = parseArgs({
    args,
    options: { ...common, ...spec.options },
    allowPositionals: true,
    strict: true,
  });
  if ((parsed.values as { help?: boolean }).help) {
    process.stdout.write(spec.usage);
    return 0;
  }
  if (parsed.positionals.length !== spec.positionals || parsed.positionals.some((p) => p === '')) {
    process.stderr.write(`nixspace ${spec.name} needs ${spec.needs}\n\n${spec.usage}`);
    return 2;
  }
  return parsed;
}
