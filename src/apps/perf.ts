/**
 * The `perf` protocol: the client opens a bidirectional stream and sends an 8-byte big-endian
 * size N, optionally upload bytes, and the FIN; the server reads to the FIN and answers with N
 * bytes (purequic's generated body) and the FIN.
 */
import type { EndpointConnection } from '../endpoint/endpoint-connection.js';
import type { ConnectionEvent } from '../transport/events.js';
import { BODY_PATTERN_MAX_VIEW, bodyPatternView } from './body-pattern.js';
import type { BodySink } from './body-sink.js';
import type { AppLog, ConnectionApp, TransferResult } from './connection-app.js';
import { writeBody } from './content.js';
import { RawDownloads } from './raw-downloads.js';
import { ReadOutcome, isUnidirectional, readAvailable, type ByteConsumer } from './stream-read.js';

/** ALPN of the protocol. */
export const PERF_ALPN = 'perf';
/** Stream error code for a request that is not 8 bytes plus upload. */
export const PERF_BAD_REQUEST = 0x1;

interface PerfRequestState {
  readonly header: Uint8Array;
  headerLength: number;
  uploaded: number;
}

/** Server side on one connection. */
export class PerfServer implements ConnectionApp, ByteConsumer {
  private readonly requests = new Map<number, PerfRequestState>();

  constructor(
    readonly ec: EndpointConnection,
    private readonly log: AppLog = () => {},
  ) {}

  consume(streamId: number, data: Uint8Array): void {
    const s = this.requests.get(streamId);
    if (s === undefined) return;
    const need = 8 - s.headerLength;
    if (need > 0) {
      const take = Math.min(need, data.length);
      s.header.set(data.subarray(0, take), s.headerLength);
      s.headerLength += take;
      s.uploaded += data.length - take;
    } else {
      s.uploaded += data.length;
    }
  }

  onEvent(e: ConnectionEvent): void {
    if (e.type === 'streamOpened') {
      // One request per client-opened bidirectional stream; anything else is not perf.
      if (isUnidirectional(e.streamId)) this.ec.stopSending(e.streamId, 0);
      else this.requests.set(e.streamId, { header: new Uint8Array(8), headerLength: 0, uploaded: 0 });
    } else if (e.type === 'streamReadable') {
      const s = this.requests.get(e.streamId);
      if (s !== undefined && readAvailable(this.ec, e.streamId, this) !== ReadOutcome.Drained) this.respond(e.streamId, s);
    } else if (e.type === 'streamReset') {
      this.requests.delete(e.streamId);
    }
  }

  private respond(id: number, s: PerfRequestState): void {
    this.requests.delete(id);
    if (s.headerLength < 8) {
      this.log(`perf: stream ${id}: request of ${s.headerLength} bytes, expected 8`);
      this.ec.resetStream(id, PERF_BAD_REQUEST);
      return;
    }
    const n = new DataView(s.header.buffer).getBigUint64(0);
    if (n > BigInt(Number.MAX_SAFE_INTEGER)) {
      this.log(`perf: stream ${id}: size ${n} too large`);
      this.ec.resetStream(id, PERF_BAD_REQUEST);
      return;
    }
    const size = Number(n);
    writeBody(this.ec, id, { kind: 'pattern', size });
    this.log(`perf: stream ${id}: received ${s.uploaded} bytes, sending ${size}`);
  }
}

/** The perf request: the 8-byte size, then `upload` bytes of the generated pattern. */
export function perfRequest(bytes: number, upload = 0): Uint8Array[] {
  if (!Number.isSafeInteger(bytes) || bytes < 0) throw new RangeError(`bytes must be a non-negative safe integer, got ${bytes}`);
  if (!Number.isSafeInteger(upload) || upload < 0) throw new RangeError(`upload must be a non-negative safe integer, got ${upload}`);
  const header = new Uint8Array(8);
  new DataView(header.buffer).setBigUint64(0, BigInt(bytes));
  const parts: Uint8Array[] = [header];
  for (let off = 0; off < upload; off += BODY_PATTERN_MAX_VIEW) parts.push(bodyPatternView(off, Math.min(BODY_PATTERN_MAX_VIEW, upload - off)));
  return parts;
}

/**
 * Client side: asks for `bytes` (uploading `upload` bytes first) on an established connection
 * and collects the answer into `sink`. Takes over the connection's events.
 */
export function perfDownload(ec: EndpointConnection, bytes: number, sink: BodySink, upload = 0): Promise<TransferResult> {
  return new RawDownloads(ec).request(`perf ${bytes}`, perfRequest(bytes, upload), upload, sink);
}
