/** The `purequic` command line: dispatches to `client`, `server` or the demo. */
import { UsageError } from './args.js';
import { CLIENT_USAGE, clientCommand } from './client-command.js';
import { DEMO_USAGE, demoCommand } from './demo-command.js';
import { processIo, type CliIo } from './output.js';
import { SERVER_USAGE, serverCommand } from './server-command.js';

export const USAGE = `purequic: a QUIC stack in TypeScript (perf, hq-interop and h3 over QUIC v1)

${DEMO_USAGE}
  with no arguments: a loopback server and client transferring 50 MiB with a fresh certificate

${SERVER_USAGE}

${CLIENT_USAGE}
`;

/**
 * Runs the command line `argv` (without node and script) and resolves with the exit code:
 * 0 success, 1 failure, 2 usage error.
 */
export async function runCli(argv: readonly string[], io: CliIo = processIo()): Promise<number> {
  const [command, ...rest] = argv;
  try {
    switch (command) {
      case undefined:
        return await demoCommand([], io);
      case 'demo':
        return await demoCommand(rest, io);
      case 'client':
        return await clientCommand(rest, io);
      case 'server':
        return await serverCommand(rest, io);
      case 'help':
      case '--help':
      case '-h':
        io.stdout.write(USAGE);
        return 0;
      default:
        if (command.startsWith('--')) return await demoCommand(argv, io);
        throw new UsageError(`unknown command ${JSON.stringify(command)}`);
    }
  } catch (e) {
    if (e instanceof UsageError) {
      io.stderr.write(`purequic: ${e.message}\n\n${USAGE}`);
      return 2;
    }
    io.stderr.write(`purequic: ${(e as Error).stack ?? String(e)}\n`);
    return 1;
  }
}
