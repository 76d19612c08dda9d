/**
 * A minimal HTTP/3 server connection (RFC 9114): GET and HEAD on request streams, answered from
 * `content.ts` (`/<digits>` generated bodies, files under the document root), 404 otherwise,
 * 405 for other methods. Request bodies are read and discarded.
 */
import type { EndpointConnection } from '../endpoint/endpoint-connection.js';
import type { ConnectionCloseInfo } from '../transport/events.js';
import type { AppLog } from './connection-app.js';
import { bodySize, resolveRequestPath, writeBody, type ContentOptions } from './content.js';
import { H3Error, H3ErrorCode, H3FrameType } from './h3-constants.js';
import { H3Connection } from './h3-connection.js';
import { H3FrameReader, encodeDataFrameHeader, encodeH3Frame, type H3FrameHandler } from './h3-frames.js';
import { MessagePhase, checkDataFrame, checkRequestFields, checkRequestStreamFrame, checkTrailerFields } from './h3-message.js';
import { decodeFieldSection, encodeFieldSection, type HeaderField } from './qpack.js';
import { ReadOutcome, isClientInitiated, readAvailable, type ByteConsumer } from './stream-read.js';


/** One request stream on the server. */
class ServerRequest implements H3FrameHandler {
  phase: MessagePhase = MessagePhase.Headers;
  readonly reader: H3FrameReader;

  constructor(
    readonly id: number,
    private readonly server: H3ServerConnection,
  ) {
    this.reader = new H3FrameReader(this);
  }

  onFrame(type: number, payload: Uint8Array): void {
    if (type === H3FrameType.HEADERS) {
      if (this.phase === MessagePhase.Headers) {
        this.phase = MessagePhase.Body;
        this.server.onRequest(this.id, decodeFieldSection(payload));
        return;
      }
      if (this.phase === MessagePhase.Body) {
        checkTrailerFields(this.id, decodeFieldSection(payload));
        this.phase = MessagePhase.Trailers;
        return;
      }
      throw new H3Error(H3ErrorCode.H3_FRAME_UNEXPECTED, 'HEADERS after the trailers');
    }
    if (type === H3FrameType.PUSH_PROMISE) throw new H3Error(H3ErrorCode.H3_FRAME_UNEXPECTED, 'PUSH_PROMISE from a client');
    checkRequestStreamFrame(type);
  }

  onDataFrame(): void {
    checkDataFrame(this.phase);
  }

  onData(): void {
    // Request bodies are accepted and discarded.
  }
}

/** The server side of HTTP/3 on one connection. */
export class H3ServerConnection extends H3Connection implements ByteConsumer {
  private readonly requests = new Map<number, ServerRequest>();
  /** Requests answered so far. */
  served = 0;

  constructor(
    ec: EndpointConnection,
    private readonly content: ContentOptions = {},
    private readonly log: AppLog = () => {},
  ) {
    super(ec, 'server');
  }

  override consume(streamId: number, data: Uint8Array): void {
    const r = this.requests.get(streamId);
    if (r !== undefined) r.reader.push(data);
    else super.consume(streamId, data);
  }

  protected onPeerBidiStream(streamId: number): void {
    if (!isClientInitiated(streamId)) return;
    if (!this.requests.has(streamId)) this.requests.set(streamId, new ServerRequest(streamId, this));
  }

  protected onRequestStreamReadable(streamId: number): void {
    // Requests are created when their stream opens; a stream already answered has nothing more to read.
    const r = this.requests.get(streamId);
    if (r === undefined) return;
    const outcome = readAvailable(this.ec, streamId, this);
    if (outcome === ReadOutcome.Drained) return;
    this.requests.delete(streamId);
    if (outcome === ReadOutcome.Finished) {
      r.reader.end();
      if (r.phase === MessagePhase.Headers) throw new H3Error(H3ErrorCode.H3_REQUEST_INCOMPLETE, 'request stream ended without HEADERS', streamId);
    }
  }

  protected onRequestStreamReset(streamId: number): void {
    this.requests.delete(streamId);
  }

  protected onStreamError(err: H3Error): void {
    this.log(`h3: stream ${err.streamId}: ${err.message}`);
    this.requests.delete(err.streamId!);
  }

  protected onClosed(info: ConnectionCloseInfo): void {
    this.requests.clear();
    void info;
  }

  /** A complete request header section arrived on `streamId`: answer it. */
  onRequest(streamId: number, section: readonly HeaderField[]): void {
    const { pseudo } = checkRequestFields(streamId, section);
    const method = pseudo.get(':method')!;
    const path = pseudo.get(':path') ?? '/';
    const body = method === 'GET' || method === 'HEAD' ? resolveRequestPath(path, this.content) : undefined;
    let status: number;
    if (method !== 'GET' && method !== 'HEAD') status = 405;
    else status = body === undefined ? 404 : 200;
    const size = body === undefined ? 0 : bodySize(body);
    const headers: HeaderField[] = [
      [':status', String(status)],
      ['content-length', String(size)],
      ['server', 'purequic'],
    ];
    if (status === 405) headers.push(['allow', 'GET, HEAD']);
    const headersFrame = encodeH3Frame(H3FrameType.HEADERS, encodeFieldSection(headers));
    this.served++;
    if (method === 'HEAD' || body === undefined || size === 0) {
      this.ec.write(streamId, headersFrame, true);
    } else {
      const prefix = new Uint8Array(headersFrame.length + 9);
      prefix.set(headersFrame, 0);
      const dataHeader = encodeDataFrameHeader(size);
      prefix.set(dataHeader, headersFrame.length);
      writeBody(this.ec, streamId, body, prefix.subarray(0, headersFrame.length + dataHeader.length));
    }
    this.log(`h3: ${method} ${path}: ${status}${status === 200 ? `, ${size} bytes` : ''}`);
  }
}
