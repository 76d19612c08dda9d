/**
 * A minimal HTTP/3 client connection (RFC 9114): GET requests, each on its own request stream,
 * with the response body fed to a `BodySink`. Interim (1xx) responses are skipped, trailers
 * accepted, content-length checked against the body received.
 */
import type { EndpointConnection } from '../endpoint/endpoint-connection.js';
import type { ConnectionCloseInfo } from '../transport/events.js';
import type { BodySink } from './body-sink.js';
import { ConnectionClosedError, type TransferResult } from './connection-app.js';
import { H3Error, H3ErrorCode, H3FrameType, h3ErrorName } from './h3-constants.js';
import { H3Connection } from './h3-connection.js';
import { H3FrameReader, encodeH3Frame, type H3FrameHandler } from './h3-frames.js';
import { MessagePhase, checkDataFrame, checkRequestStreamFrame, checkResponseFields, checkTrailerFields, contentLength } from './h3-message.js';
import { decodeFieldSection, encodeFieldSection, type HeaderField } from './qpack.js';
import { ReadOutcome, readAvailable, type ByteConsumer } from './stream-read.js';


/** One request in progress. */
class ClientRequest implements H3FrameHandler {
  phase: MessagePhase = MessagePhase.Headers;
  status = 0;
  expectedLength: number | undefined;
  headers: readonly HeaderField[] = [];
  readonly reader = new H3FrameReader(this);
  readonly started = performance.now();

  constructor(
    readonly id: number,
    readonly path: string,
    readonly sink: BodySink,
    readonly resolve: (r: TransferResult & { headers: readonly HeaderField[] }) => void,
    readonly reject: (e: Error) => void,
  ) {}

  onFrame(type: number, payload: Uint8Array): void {
    if (type === H3FrameType.HEADERS) {
      const section = decodeFieldSection(payload);
      if (this.phase === MessagePhase.Headers) {
        const c = checkResponseFields(this.id, section);
        if (c.status < 200) return; // interim response
        this.status = c.status;
        this.headers = section;
        this.expectedLength = contentLength(this.id, c.fields);
        this.phase = MessagePhase.Body;
        return;
      }
      if (this.phase === MessagePhase.Body) {
        checkTrailerFields(this.id, section);
        this.phase = MessagePhase.Trailers;
        return;
      }
      throw new H3Error(H3ErrorCode.H3_FRAME_UNEXPECTED, 'HEADERS after the trailers');
    }
    if (type === H3FrameType.PUSH_PROMISE) throw new H3Error(H3ErrorCode.H3_ID_ERROR, 'PUSH_PROMISE without MAX_PUSH_ID');
    checkRequestStreamFrame(type);
  }

  onDataFrame(): void {
    checkDataFrame(this.phase);
  }

  onData(data: Uint8Array): void {
    this.sink.write(data);
    if (this.expectedLength !== undefined && this.sink.bytes > this.expectedLength) {
      throw new H3Error(H3ErrorCode.H3_MESSAGE_ERROR, `body longer than content-length ${this.expectedLength}`, this.id);
    }
  }
}

/** The client side of HTTP/3 on one connection (it takes over the connection's events). */
export class H3ClientConnection extends H3Connection implements ByteConsumer {
  private readonly requests = new Map<number, ClientRequest>();

  /** `authority` goes into :authority (host[:port]). */
  constructor(
    ec: EndpointConnection,
    readonly authority: string,
  ) {
    super(ec, 'client');
    ec.setEventHandler((e) => this.onEvent(e));
    this.start();
  }

  /**
   * Sends `GET path` and resolves with the response once its body is complete (any status:
   * the caller decides what a 404 means). Rejects when the stream is reset or the connection
   * closes first.
   */
  get(path: string, sink: BodySink): Promise<TransferResult & { headers: readonly HeaderField[] }> {
    return new Promise((resolve, reject) => {
      if (this.error !== undefined) return reject(this.error);
      const id = this.ec.openStream(true);
      if (id === undefined) return reject(new Error('the server allows no more streams'));
      this.requests.set(id, new ClientRequest(id, path, sink, resolve, reject));
      const fields: HeaderField[] = [
        [':method', 'GET'],
        [':scheme', 'https'],
        [':authority', this.authority],
        [':path', path],
        ['user-agent', 'purequic'],
      ];
      this.ec.write(id, encodeH3Frame(H3FrameType.HEADERS, encodeFieldSection(fields)), true);
    });
  }

  /** Closes the connection with H3_NO_ERROR. */
  close(): void {
    this.ec.close(H3ErrorCode.H3_NO_ERROR, '');
  }

  override consume(streamId: number, data: Uint8Array): void {
    const r = this.requests.get(streamId);
    if (r !== undefined) r.reader.push(data);
    else super.consume(streamId, data);
  }

  protected onPeerBidiStream(streamId: number): void {
    // RFC 9114 §6.1: servers do not open bidirectional streams.
    throw new H3Error(H3ErrorCode.H3_STREAM_CREATION_ERROR, `server opened bidirectional stream ${streamId}`);
  }

  protected onRequestStreamReadable(streamId: number): void {
    const r = this.requests.get(streamId);
    if (r === undefined) return;
    const outcome = readAvailable(this.ec, streamId, this);
    if (outcome === ReadOutcome.Drained) return;
    this.requests.delete(streamId);
    r.reader.end();
    const summary = r.sink.finish();
    if (r.phase === MessagePhase.Headers) {
      r.reject(new Error(`${r.path}: response ended without a final HEADERS frame`));
      return;
    }
    if (r.expectedLength !== undefined && summary.bytes !== r.expectedLength) {
      r.reject(new Error(`${r.path}: received ${summary.bytes} bytes, content-length was ${r.expectedLength}`));
      return;
    }
    r.resolve({ what: r.path, seconds: (performance.now() - r.started) / 1000, uploaded: 0, status: r.status, headers: r.headers, ...summary });
  }

  protected onRequestStreamReset(streamId: number, errorCode: bigint): void {
    const r = this.requests.get(streamId);
    if (r === undefined) return;
    this.requests.delete(streamId);
    r.sink.finish();
    r.reject(new Error(`${r.path}: the server reset the request stream with ${h3ErrorName(errorCode)}`));
  }

  protected onStreamError(err: H3Error): void {
    const r = this.requests.get(err.streamId!);
    if (r === undefined) return;
    this.requests.delete(err.streamId!);
    r.sink.finish();
    r.reject(err);
  }

  protected onClosed(info: ConnectionCloseInfo): void {
    for (const [id, r] of this.requests) {
      this.requests.delete(id);
      r.sink.finish();
      r.reject(this.error ?? new ConnectionClosedError(info, h3ErrorName));
    }
  }
}
