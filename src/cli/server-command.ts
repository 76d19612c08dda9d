/**
 * `purequic server`: a QUIC server on one UDP socket answering `perf`, `hq-interop` and `h3`
 * until SIGINT/SIGTERM. Prints `listening on HOST:PORT (ALPN …)` once ready.
 */
import { appendFileSync } from 'node:fs';
import { SUPPORTED_ALPNS, serveEndpoint } from '../apps/server.js';
import { QuicEndpoint } from '../endpoint/udp-endpoint.js';
import { selfSignedCertificate } from '../tls/certificate-authority.js';
import { readCertificateChainFile, readPrivateKeyFile } from '../tls/credential-files.js';
import type { Credentials } from '../tls/types.js';
import { UsageError, flagOption, parseArgs, portOption, stringOption } from './args.js';
import type { CliIo } from './output.js';
import { QlogDirectory } from './qlog-files.js';

/** Everything the server command can be told. */
export interface ServerCommandOptions {
  /** Address to bind (default 127.0.0.1). */
  host?: string;
  /** UDP port (default 4433; 0 picks a free one). */
  port?: number;
  /** Certificate chain file and key file; without them a fresh self-signed certificate is used. */
  cert?: string;
  key?: string;
  /** Credentials given directly (instead of files). */
  credentials?: Credentials;
  /** ALPNs to accept (default perf, hq-interop, h3). */
  alpn?: readonly string[];
  /** Validate every client address with a Retry. */
  retry?: boolean;
  /** Accept 0-RTT data from resuming clients (requests here are idempotent GETs). */
  earlyData?: boolean;
  qlogDir?: string;
  /** Document root for paths that are not `/<digits>`. */
  www?: string;
  keylog?: string;
  /** No per-connection log lines. */
  quiet?: boolean;
}

/** A running server. */
export interface RunningServer {
  readonly endpoint: QuicEndpoint;
  readonly host: string;
  readonly port: number;
  close(): Promise<void>;
}

/** Binds and starts serving; resolves once the socket is bound. */
export async function startServer(o: ServerCommandOptions, io: CliIo): Promise<RunningServer> {
  const alpn = o.alpn ?? SUPPORTED_ALPNS;
  for (const a of alpn) if (!SUPPORTED_ALPNS.includes(a)) throw new UsageError(`unsupported ALPN ${JSON.stringify(a)} (supported: ${SUPPORTED_ALPNS.join(', ')})`);
  let credentials = o.credentials;
  if (credentials === undefined) {
    if ((o.cert === undefined) !== (o.key === undefined)) throw new UsageError('--cert and --key go together');
    if (o.cert !== undefined) {
      try {
        credentials = { certificateChain: readCertificateChainFile(o.cert), privateKey: readPrivateKeyFile(o.key!) };
      } catch (e) {
        throw new UsageError(`cannot load --cert/--key: ${(e as Error).message}`);
      }
    } else {
      const id = await selfSignedCertificate({ hosts: ['localhost', '127.0.0.1', '::1'], now: Date.now() });
      credentials = { certificateChain: [id.certificate], privateKey: id.privateKey };
      if (!o.quiet) io.stdout.write('no --cert/--key: using a fresh self-signed certificate for localhost, 127.0.0.1, ::1\n');
    }
  }
  const qlog = o.qlogDir !== undefined ? new QlogDirectory(o.qlogDir) : undefined;
  const keylog = o.keylog;
  const host = o.host ?? '127.0.0.1';
  const endpoint = await QuicEndpoint.bind({
    host,
    port: o.port ?? 4433,
    server: {
      tls: {
        alpn,
        credentials,
        ...(o.earlyData ? { earlyData: true } : {}),
        ...(keylog !== undefined ? { keyLog: (line: string) => appendFileSync(keylog, line + '\n') } : {}),
      },
      retry: o.retry ?? false,
    },
    ...(qlog ? { trace: qlog.trace } : {}),
  });
  const log = o.quiet ? undefined : (m: string) => io.stdout.write(`${m}\n`);
  serveEndpoint(endpoint, { ...(o.www !== undefined ? { www: o.www } : {}), ...(log ? { log } : {}) });
  const addr = endpoint.address();
  const shown = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
  io.stdout.write(`listening on ${shown}:${addr.port} (ALPN ${alpn.join(',')}${o.retry ? ', Retry' : ''})\n`);
  return {
    endpoint,
    host: addr.address,
    port: addr.port,
    close: async () => {
      await endpoint.close();
      qlog?.closeAll();
    },
  };
}

export const SERVER_USAGE = `usage: purequic server [options]
  --port P            UDP port (default 4433; 0 = any free port)
  --host ADDR         address to bind (default 127.0.0.1; ::1 for IPv6)
  --cert FILE         certificate chain (PEM or DER)
  --key FILE          private key (PEM or DER); without --cert/--key a fresh self-signed certificate is used
  --alpn LIST         ALPNs to accept (default perf,hq-interop,h3)
  --retry             validate every client address with a Retry
  --early-data        accept 0-RTT from resuming clients
  --www DIR           serve files from DIR for paths that are not /<digits>
  --qlog-dir DIR      write a qlog file per connection
  --keylog FILE       append TLS secrets (NSS key log format)
  --quiet             no per-connection log lines`;

/** The `server` command: serves until SIGINT/SIGTERM, then returns 0. */
export async function serverCommand(argv: readonly string[], io: CliIo): Promise<number> {
  const args = parseArgs(argv, {
    port: 'string', host: 'string', cert: 'string', key: 'string', alpn: 'string', retry: 'boolean', 'early-data': 'boolean', www: 'string',
    'qlog-dir': 'string', keylog: 'string', quiet: 'boolean',
  });
  if (args.positionals.length > 0) throw new UsageError(`unexpected argument ${JSON.stringify(args.positionals[0])}`);
  const o: ServerCommandOptions = { port: portOption(args, 'port', 4433), retry: flagOption(args, 'retry'), earlyData: flagOption(args, 'early-data'), quiet: flagOption(args, 'quiet') };
  for (const [k, field] of [['host', 'host'], ['cert', 'cert'], ['key', 'key'], ['www', 'www'], ['qlog-dir', 'qlogDir'], ['keylog', 'keylog']] as const) {
    const v = stringOption(args, k);
    if (v !== undefined) o[field] = v;
  }
  const alpn = stringOption(args, 'alpn');
  if (alpn !== undefined) o.alpn = alpn.split(',').map((s) => s.trim()).filter((s) => s.length > 0);
  const server = await startServer(o, io);
  await new Promise<void>((resolve) => {
    const stop = (): void => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      resolve();
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
  await server.close();
  return 0;
}
