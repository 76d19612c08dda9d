/**
 * `hq-interop`, the HTTP/0.9 of the QUIC interop runner: the client sends `GET /path\r\n` and the
 * FIN on a bidirectional stream; the server answers with the body and the FIN (an unknown path
 * gets an empty body).
 */
import type { EndpointConnection } from '../endpoint/endpoint-connection.js';
import type { ConnectionEvent } from '../transport/events.js';
import type { BodySink } from './body-sink.js';
import type { AppLog, ConnectionApp, TransferResult } from './connection-app.js';
import { bodySize, resolveRequestPath, writeBody, type ContentOptions } from './content.js';
import { RawDownloads } from './raw-downloads.js';
import { ReadOutcome, isUnidirectional, readAvailable, type ByteConsumer } from './stream-read.js';

/** ALPN of the protocol. */
export const HQ_INTEROP_ALPN = 'hq-interop';
/** Longest request line accepted. */
const MAX_REQUEST = 8192;
/** Stream error code for a request that is too long or not a GET. */
export const HQ_BAD_REQUEST = 0x1;

/** Server side on one connection. */
export class HqInteropServer implements ConnectionApp, ByteConsumer {
  private readonly requests = new Map<number, { bytes: Uint8Array; length: number }>();

  constructor(
    readonly ec: EndpointConnection,
    private readonly content: ContentOptions = {},
    private readonly log: AppLog = () => {},
  ) {}

  consume(streamId: number, data: Uint8Array): void {
    const r = this.requests.get(streamId);
    if (r === undefined) return;
    const take = Math.min(data.length, MAX_REQUEST + 1 - r.length);
    r.bytes.set(data.subarray(0, take), r.length);
    r.length += take;
  }

  onEvent(e: ConnectionEvent): void {
    if (e.type === 'streamOpened') {
      // One request per client-opened bidirectional stream; anything else is not hq-interop.
      if (isUnidirectional(e.streamId)) this.ec.stopSending(e.streamId, 0);
      else this.requests.set(e.streamId, { bytes: new Uint8Array(MAX_REQUEST + 1), length: 0 });
    } else if (e.type === 'streamReadable') {
      const id = e.streamId;
      const r = this.requests.get(id);
      if (r === undefined) return;
      const outcome = readAvailable(this.ec, id, this);
      if (r.length > MAX_REQUEST) {
        this.requests.delete(id);
        this.log(`hq-interop: stream ${id}: request longer than ${MAX_REQUEST} bytes`);
        this.ec.stopSending(id, HQ_BAD_REQUEST);
        this.ec.resetStream(id, HQ_BAD_REQUEST);
        return;
      }
      if (outcome !== ReadOutcome.Drained) this.respond(id, Buffer.from(r.bytes.subarray(0, r.length)).toString('latin1'));
    } else if (e.type === 'streamReset') {
      this.requests.delete(e.streamId);
    }
  }

  private respond(id: number, request: string): void {
    this.requests.delete(id);
    const m = /^GET\s+(\S+)\s*$/.exec(request.split('\n')[0]!.trim());
    if (m === null) {
      this.log(`hq-interop: stream ${id}: not a GET request: ${JSON.stringify(request.slice(0, 80))}`);
      this.ec.resetStream(id, HQ_BAD_REQUEST);
      return;
    }
    const path = m[1]!;
    const body = resolveRequestPath(path, this.content);
    writeBody(this.ec, id, body);
    this.log(body === undefined ? `hq-interop: ${path}: not found` : `hq-interop: ${path}: sending ${bodySize(body)} bytes`);
  }
}

/**
 * Client side: fetches each path on its own stream, in parallel, into the matching sink. Takes
 * over the connection's events.
 */
export function hqInteropDownload(ec: EndpointConnection, paths: readonly string[], sinks: readonly BodySink[]): Promise<TransferResult[]> {
  if (paths.length !== sinks.length) throw new RangeError(`${paths.length} paths but ${sinks.length} sinks`);
  const d = new RawDownloads(ec);
  return Promise.all(paths.map((p, i) => d.request(p, Buffer.from(`GET ${p}\r\n`, 'latin1'), 0, sinks[i]!)));
}
