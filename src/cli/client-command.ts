/**
 * `purequic client [options] https://HOST:PORT/PATH`: one connection, one request with the
 * chosen application protocol, progress while receiving, and a final line with bytes, seconds
 * and MB/s. Exit code 0 on success, 1 on any failure (with a message on stderr).
 */
import { appendFileSync } from 'node:fs';
import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { BodySink, type BodySummary } from '../apps/body-sink.js';
import { describeClose, type ConnectionApp, type TransferResult } from '../apps/connection-app.js';
import { H3ErrorCode } from '../apps/h3-constants.js';
import { H3_ALPN } from '../apps/h3-connection.js';
import { H3ClientConnection } from '../apps/h3-client.js';
import { HQ_INTEROP_ALPN } from '../apps/hq-interop.js';
import { PERF_ALPN, perfRequest } from '../apps/perf.js';
import { RawDownloads } from '../apps/raw-downloads.js';
import type { EndpointConnection } from '../endpoint/endpoint-connection.js';
import { QuicEndpoint } from '../endpoint/udp-endpoint.js';
import { readTrustedCertificatesFile } from '../tls/credential-files.js';
import type { ConnectionEvent } from '../transport/events.js';
import { UsageError, flagOption, parseArgs, parseSize, sizeOption, stringOption } from './args.js';
import { transferLine, type CliIo } from './output.js';
import { ProgressDisplay } from './progress.js';
import { QlogDirectory } from './qlog-files.js';

/** Everything the client command can be told. */
export interface ClientOptions {
  /** `https://HOST:PORT/PATH`; IPv6 literals in brackets. */
  url: string;
  /** `perf` (default), `hq-interop` or `h3`. */
  alpn?: string;
  /** perf: bytes to ask for (default: the path's digits). */
  bytes?: number;
  /** perf: bytes to upload with the request. */
  upload?: number;
  /** Offer only TLS_CHACHA20_POLY1305_SHA256. */
  chacha?: boolean;
  /** Trust anchors file (PEM/DER); verifies the server certificate. */
  ca?: string;
  /** Trust anchors given directly (DER); verifies the server certificate. */
  trusted?: readonly Uint8Array[];
  /** Server name for SNI and verification (default: the URL's host). */
  serverName?: string;
  qlogDir?: string;
  /** NSS key log file (appended). */
  keylog?: string;
  /** Print the SHA-256 of the body. */
  sha256?: boolean;
  /** Check the body against purequic's generated pattern (for `/<digits>` from a purequic server). */
  verify?: boolean;
  /** Save the body to this file. */
  out?: string;
  /** Give up after this many ms (default 60 s). */
  timeoutMs?: number;
  /** No progress output. */
  quiet?: boolean;
}

/** What a successful run reports. */
export interface ClientOutcome extends TransferResult {
  readonly cipherSuite: string;
  readonly handshakeMs: number;
}

/** A failure with a message meant for the user. */
export class ClientError extends Error {
  override name = 'ClientError';
}

interface Target {
  host: string;
  port: number;
  path: string;
  authority: string;
}

/** Splits the URL into host, port and path. */
export function parseTarget(url: string): Target {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new UsageError(`not a URL: ${JSON.stringify(url)}`);
  }
  if (u.protocol !== 'https:') throw new UsageError(`the URL must start with https://, got ${JSON.stringify(url)}`);
  const host = u.hostname.replace(/^\[|\]$/g, '');
  const port = u.port === '' ? 443 : Number(u.port);
  return { host, port, path: (u.pathname || '/') + u.search, authority: u.host };
}

function expectedSize(alpn: string, path: string, bytes: number | undefined): number | undefined {
  if (alpn === PERF_ALPN) return bytes;
  const m = /^\/(\d{1,15})$/.exec(path);
  return m ? Number(m[1]) : undefined;
}

/** Runs one download; resolves with its outcome or rejects with a `ClientError`/`UsageError`. */
export async function download(o: ClientOptions, io: CliIo): Promise<ClientOutcome> {
  const alpn = o.alpn ?? PERF_ALPN;
  if (alpn !== PERF_ALPN && alpn !== HQ_INTEROP_ALPN && alpn !== H3_ALPN) throw new UsageError(`--alpn must be perf, hq-interop or h3, got ${JSON.stringify(alpn)}`);
  const target = parseTarget(o.url);
  let bytes = o.bytes;
  if (alpn === PERF_ALPN && bytes === undefined) {
    const digits = target.path.replace(/^\//, '');
    if (digits === '') throw new UsageError('perf needs a size: --bytes N or a URL path /N');
    bytes = parseSize(digits, 'the URL path');
  }
  let address = target.host;
  if (isIP(address) === 0) {
    try {
      address = (await lookup(target.host)).address;
    } catch (e) {
      throw new ClientError(`cannot resolve ${target.host}: ${(e as Error).message}`);
    }
  }
  const ipv6 = isIP(address) === 6;
  let trusted = o.trusted;
  if (trusted === undefined && o.ca !== undefined) {
    try {
      trusted = readTrustedCertificatesFile(o.ca);
    } catch (e) {
      throw new ClientError(`cannot read --ca ${o.ca}: ${(e as Error).message}`);
    }
  }
  const qlog = o.qlogDir !== undefined ? new QlogDirectory(o.qlogDir) : undefined;
  const endpoint = await QuicEndpoint.bind({ host: ipv6 ? '::' : '0.0.0.0', ...(qlog ? { trace: qlog.trace } : {}) });
  const keylog = o.keylog;
  let ec: EndpointConnection | undefined;
  let timer: NodeJS.Timeout | undefined;
  let progress: ProgressDisplay | undefined;
  try {
    const started = performance.now();
    ec = endpoint.connect(address, target.port, {
      tls: {
        alpn: [alpn],
        serverName: o.serverName ?? target.host,
        verify: trusted !== undefined ? 'builtin' : 'none',
        ...(trusted !== undefined ? { trustedCertificates: trusted } : {}),
        ...(o.chacha ? { cipherSuites: ['TLS_CHACHA20_POLY1305_SHA256' as const] } : {}),
        ...(keylog !== undefined ? { keyLog: (line: string) => appendFileSync(keylog, line + '\n') } : {}),
      },
    });
    const conn = ec;
    const timeoutMs = o.timeoutMs ?? 60_000;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new ClientError(`timeout: no complete response after ${timeoutMs / 1000} s`)), timeoutMs);
    });

    // Hold the events until the protocol takes over, noting the handshake details.
    const held: ConnectionEvent[] = [];
    let cipherSuite = '';
    conn.setEventHandler((e) => {
      if (e.type === 'handshakeCompleted') cipherSuite = e.cipherSuite;
      held.push(e);
    });
    await Promise.race([conn.handshake(), timeout]).catch((e: unknown) => {
      if (e instanceof ClientError) throw e;
      throw new ClientError(conn.closeInfo ? `handshake failed: connection closed (${describeClose(conn.closeInfo)})` : `handshake failed: ${(e as Error).message}`);
    });
    const handshakeMs = performance.now() - started;
    if (!o.quiet) {
      const verified = trusted !== undefined ? 'server certificate verified' : 'server certificate NOT verified (no --ca)';
      io.stdout.write(`connected to ${target.authority}: ALPN ${alpn}, ${cipherSuite}, handshake ${handshakeMs.toFixed(1)} ms, ${verified}\n`);
    }

    const sink = new BodySink({ sha256: o.sha256 ?? false, verifyPattern: o.verify ?? false, ...(o.out !== undefined ? { outFile: o.out } : {}) });
    if (!o.quiet) {
      progress = new ProgressDisplay(io.stdout, () => sink.bytes, expectedSize(alpn, target.path, bytes));
      progress.start();
    }
    let app: ConnectionApp;
    let request: Promise<TransferResult>;
    if (alpn === H3_ALPN) {
      const h3 = new H3ClientConnection(conn, target.authority);
      app = h3;
      request = h3.get(target.path, sink);
    } else {
      const raw = new RawDownloads(conn);
      app = raw;
      request =
        alpn === PERF_ALPN
          ? raw.request(`perf ${bytes}`, perfRequest(bytes!, o.upload ?? 0), o.upload ?? 0, sink)
          : raw.request(target.path, Buffer.from(`GET ${target.path}\r\n`, 'latin1'), 0, sink);
    }
    for (const e of held) app.onEvent(e);
    const result = await Promise.race([request, timeout]).catch((e: unknown) => {
      throw e instanceof ClientError ? e : new ClientError((e as Error).message);
    });
    progress?.stop();
    checkResult(result, alpn, bytes);
    conn.close(alpn === H3_ALPN ? H3ErrorCode.H3_NO_ERROR : 0, '');
    // Stay for the closing period (3 PTO, RFC 9000 §10.2) so a lost CONNECTION_CLOSE is repeated.
    await Promise.race([conn.closed(), new Promise((r) => setTimeout(r, 1000).unref())]);
    return { ...result, cipherSuite, handshakeMs };
  } finally {
    progress?.stop();
    if (timer !== undefined) clearTimeout(timer);
    await endpoint.close();
    qlog?.closeAll();
  }
}

function checkResult(r: TransferResult, alpn: string, bytes: number | undefined): void {
  if (r.status !== undefined && r.status !== 200) throw new ClientError(`HTTP status ${r.status} for ${r.what}`);
  if (alpn === PERF_ALPN && r.bytes !== bytes) throw new ClientError(`verification failed: received ${r.bytes} bytes, asked for ${bytes}`);
  if (r.patternMismatchAt !== undefined && r.patternMismatchAt >= 0) {
    throw new ClientError(`verification failed: byte ${r.patternMismatchAt} differs from the generated pattern`);
  }
}

/** Prints an outcome's summary lines; the last one is the transfer line. */
export function printOutcome(io: CliIo, r: BodySummary & { seconds: number; uploaded: number }): void {
  if (r.patternMismatchAt !== undefined) io.stdout.write(`verified: all ${r.bytes} bytes match the generated pattern\n`);
  if (r.sha256 !== undefined) io.stdout.write(`sha256 ${r.sha256}\n`);
  if (r.uploaded > 0) io.stdout.write(`${transferLine('sent', r.uploaded, r.seconds)}\n`);
  io.stdout.write(`${transferLine('received', r.bytes, r.seconds)}\n`);
}

export const CLIENT_USAGE = `usage: purequic client [options] https://HOST:PORT/PATH
  --alpn perf|hq-interop|h3   application protocol (default perf)
  --bytes N                   perf: bytes to download (default: the number in PATH)
  --upload N                  perf: bytes to upload first
  --chacha                    offer only TLS_CHACHA20_POLY1305_SHA256
  --ca FILE                   trusted certificates (PEM or DER): verify the server
  --sni NAME                  server name (default: the URL host)
  --sha256                    print the SHA-256 of the body
  --verify                    check the body against purequic's generated pattern
  --out FILE                  save the body
  --qlog-dir DIR              write a qlog file per connection
  --keylog FILE               append TLS secrets (NSS key log format)
  --timeout SECONDS           give up after this long (default 60)
  --quiet                     no progress output`;

/** The `client` command: returns the exit code. */
export async function clientCommand(argv: readonly string[], io: CliIo): Promise<number> {
  const args = parseArgs(argv, {
    alpn: 'string', bytes: 'string', upload: 'string', chacha: 'boolean', ca: 'string', sni: 'string', sha256: 'boolean',
    verify: 'boolean', out: 'string', 'qlog-dir': 'string', keylog: 'string', timeout: 'string', quiet: 'boolean',
  });
  if (args.positionals.length !== 1) throw new UsageError('client needs exactly one URL');
  const timeout = stringOption(args, 'timeout');
  if (timeout !== undefined && !(Number(timeout) > 0)) throw new UsageError(`--timeout must be a positive number of seconds, got ${JSON.stringify(timeout)}`);
  const o: ClientOptions = { url: args.positionals[0]! };
  const str = (k: string) => stringOption(args, k);
  if (str('alpn') !== undefined) o.alpn = str('alpn')!;
  if (sizeOption(args, 'bytes') !== undefined) o.bytes = sizeOption(args, 'bytes')!;
  if (sizeOption(args, 'upload') !== undefined) o.upload = sizeOption(args, 'upload')!;
  if (str('ca') !== undefined) o.ca = str('ca')!;
  if (str('sni') !== undefined) o.serverName = str('sni')!;
  if (str('out') !== undefined) o.out = str('out')!;
  if (str('qlog-dir') !== undefined) o.qlogDir = str('qlog-dir')!;
  if (str('keylog') !== undefined) o.keylog = str('keylog')!;
  if (timeout !== undefined) o.timeoutMs = Number(timeout) * 1000;
  o.chacha = flagOption(args, 'chacha');
  o.sha256 = flagOption(args, 'sha256');
  o.verify = flagOption(args, 'verify');
  o.quiet = flagOption(args, 'quiet');
  try {
    const r = await download(o, io);
    printOutcome(io, r);
    return 0;
  } catch (e) {
    if (e instanceof UsageError) throw e;
    io.stderr.write(`purequic client: ${e instanceof ClientError ? e.message : (e as Error).stack ?? String(e)}\n`);
    return 1;
  }
}

