/**
 * `purequic` with no arguments (or `purequic demo`): a server and a client in this process on
 * loopback. The server gets a fresh self-signed certificate, the client trusts exactly that
 * certificate and verifies it, then downloads a generated body with `perf` (50 MiB by default),
 * showing progress, checking every byte, and ending with the transfer line.
 */
import { selfSignedCertificate } from '../tls/certificate-authority.js';
import { UsageError, parseArgs, sizeOption, stringOption } from './args.js';
import { ClientError, download, printOutcome } from './client-command.js';
import type { CliIo } from './output.js';
import { startServer } from './server-command.js';

/** Default size of the demo transfer. */
export const DEMO_BYTES = 50 * 1024 * 1024;

export interface DemoOptions {
  bytes?: number;
  alpn?: string;
  qlogDir?: string;
}

/** Runs the demo; returns the exit code. */
export async function runDemo(o: DemoOptions, io: CliIo): Promise<number> {
  const bytes = o.bytes ?? DEMO_BYTES;
  const alpn = o.alpn ?? 'perf';
  io.stdout.write('purequic demo: a QUIC server and client in one process, over UDP on 127.0.0.1\n');
  const id = await selfSignedCertificate({ hosts: ['localhost', '127.0.0.1', '::1'], now: Date.now() });
  const server = await startServer(
    { host: '127.0.0.1', port: 0, credentials: { certificateChain: [id.certificate], privateKey: id.privateKey }, quiet: true, ...(o.qlogDir !== undefined ? { qlogDir: o.qlogDir } : {}) },
    { stdout: { write: (t: string) => io.stdout.write(`server: ${t}`) }, stderr: io.stderr },
  );
  io.stdout.write(`client: fetching ${bytes} bytes with ${alpn}; trusting only the server's fresh self-signed certificate\n`);
  try {
    const r = await download(
      {
        url: `https://127.0.0.1:${server.port}/${bytes}`,
        alpn,
        serverName: 'localhost',
        trusted: [id.certificate],
        verify: true,
        ...(o.qlogDir !== undefined ? { qlogDir: o.qlogDir } : {}),
      },
      io,
    );
    printOutcome(io, r);
    return 0;
  } catch (e) {
    io.stderr.write(`purequic demo: ${e instanceof ClientError ? e.message : (e as Error).stack ?? String(e)}\n`);
    return 1;
  } finally {
    await server.close();
  }
}

export const DEMO_USAGE = `usage: purequic [demo] [--bytes N] [--alpn perf|hq-interop|h3] [--qlog-dir DIR]`;

/** The `demo` command. */
export async function demoCommand(argv: readonly string[], io: CliIo): Promise<number> {
  const args = parseArgs(argv, { bytes: 'string', alpn: 'string', 'qlog-dir': 'string' });
  if (args.positionals.length > 0) throw new UsageError(`unexpected argument ${JSON.stringify(args.positionals[0])}`);
  const o: DemoOptions = {};
  const bytes = sizeOption(args, 'bytes');
  if (bytes !== undefined) o.bytes = bytes;
  const alpn = stringOption(args, 'alpn');
  if (alpn !== undefined) o.alpn = alpn;
  const q = stringOption(args, 'qlog-dir');
  if (q !== undefined) o.qlogDir = q;
  return runDemo(o, io);
}
