// Runs code-server in one process inside the workspace's sandbox: `node code-server-launch.js
// <code-server entry> <code-server arguments…>`.
//
// code-server's own entry forks itself and gives the copy 10 s to load its modules and greet
// back, or it gives up ("timed out"). Loading them takes ~1 s on the host, but 5–12 s in a microVM
// under TCG (every file read crosses 9p), so there code-server would often never start; and the
// parent loads them first too, doubling the wait. This does what that copy does, with the
// arguments its parent would have handed it: parse them the same way, then run the server here.
// The supervisor's readiness deadline (which scales with the sandbox) is then the only one.

import { createRequire } from 'node:module';

interface CodeServerModules {
  cli: {
    parse(argv: string[]): Record<string, unknown> & { config?: string };
    readConfigFile(path?: string): Promise<unknown>;
    setDefaults(cliArgs: unknown, configArgs: unknown): Promise<unknown>;
  };
  main: { runCodeServer(args: unknown): Promise<{ dispose(): Promise<void> | void }> };
  wrapper: { wrapper: { preventExit(): void; onDispose(then: () => unknown): void } };
}

// code-server's wrapper replaces process.exit once it runs; a failure must still end the process.
const exit = process.exit.bind(process);

function fail(message: string): never {
  process.stderr.write(`code-server-launch: ${message}\n`);
  return exit(1);
}

const [entry, ...args] = process.argv.slice(2);
if (entry === undefined) fail('usage: code-server-launch <code-server entry.js> [arguments…]');

// Before code-server's wrapper module loads: it takes this process for the forked copy, whose
// parent is this very process (it only checks that the parent lives).
process.env.CODE_SERVER_PARENT_PID = String(process.pid);
const load = createRequire(entry);
let modules: CodeServerModules;
try {
  modules = {
    cli: load('./cli'),
    main: load('./main'),
    wrapper: load('./wrapper'),
  } as CodeServerModules;
} catch (error) {
  fail(`cannot load code-server from ${entry}: ${(error as Error).message}`);
}
const { cli, main, wrapper } = modules;
if (
  typeof cli.parse !== 'function' ||
  typeof cli.readConfigFile !== 'function' ||
  typeof cli.setDefaults !== 'function' ||
  typeof main.runCodeServer !== 'function' ||
  typeof wrapper.wrapper?.preventExit !== 'function'
) {
  fail(`the code-server at ${entry} does not have the modules this launcher knows (another version?)`);
}

try {
  const cliArgs = cli.parse(args);
  // As code-server's parent does: this also drops HASHED_PASSWORD from the environment, so no
  // terminal or task of VS Code inherits it.
  const settings = await cli.setDefaults(cliArgs, await cli.readConfigFile(cliArgs.config));
  wrapper.wrapper.preventExit();
  const server = await main.runCodeServer(settings);
  wrapper.wrapper.onDispose(() => server.dispose());
} catch (error) {
  fail((error as Error).stack ?? String(error));
}
