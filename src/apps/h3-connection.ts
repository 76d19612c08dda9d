/**
 * What both HTTP/3 endpoints do on a connection (RFC 9114 §6.2, RFC 9204 §4.2): open the control
 * stream with SETTINGS (QPACK dynamic table capacity 0, no blocked streams) and the two QPACK
 * streams; read the peer's unidirectional streams by type, enforcing the rules for critical
 * streams, SETTINGS and the control-stream frames; ignore unknown stream and frame types; and
 * turn every protocol error into a connection close or a stream reset with its H3 error code.
 * Request streams are left to the client and server subclasses.
 */
import type { EndpointConnection } from '../endpoint/endpoint-connection.js';
import type { ConnectionCloseInfo, ConnectionEvent } from '../transport/events.js';
import { readVarintAt, varintLengthFromFirstByte } from '../transport/varint.js';
import {
  H3Error,
  H3ErrorCode,
  H3FrameType,
  H3Setting,
  H3StreamType,
  isReservedHttp2FrameType,
  isReservedHttp2Setting,
} from './h3-constants.js';
import { H3FrameReader, decodeSingleVarint, encodeH3Frame, encodeSettings, encodeVarint, type H3FrameHandler } from './h3-frames.js';
import type { ConnectionApp } from './connection-app.js';
import { ReadOutcome, isClientInitiated, isUnidirectional, readAvailable, type ByteConsumer } from './stream-read.js';

/** ALPN of HTTP/3. */
export const H3_ALPN = 'h3';

/** The settings we send: QPACK without a dynamic table (both also the defaults). */
const LOCAL_SETTINGS: ReadonlyArray<readonly [number, number]> = [
  [H3Setting.QPACK_MAX_TABLE_CAPACITY, 0],
  [H3Setting.QPACK_BLOCKED_STREAMS, 0],
];

/** Decodes a SETTINGS payload (RFC 9114 §7.2.4): duplicates and HTTP/2-only identifiers are H3_SETTINGS_ERROR. */
export function decodeSettings(payload: Uint8Array): Map<number, number> {
  const out = new Map<number, number>();
  let p = 0;
  while (p < payload.length) {
    const id = readVarintAt(payload, p, payload.length);
    if (id < 0) throw new H3Error(H3ErrorCode.H3_FRAME_ERROR, 'SETTINGS frame truncated');
    p += varintLengthFromFirstByte(payload[p]!);
    const value = readVarintAt(payload, p, payload.length);
    if (value < 0) throw new H3Error(H3ErrorCode.H3_FRAME_ERROR, 'SETTINGS frame truncated');
    p += varintLengthFromFirstByte(payload[p]!);
    if (isReservedHttp2Setting(id)) throw new H3Error(H3ErrorCode.H3_SETTINGS_ERROR, `HTTP/2 setting 0x${id.toString(16)} received`);
    if (out.has(id)) throw new H3Error(H3ErrorCode.H3_SETTINGS_ERROR, `setting 0x${id.toString(16)} repeated`);
    out.set(id, value);
  }
  return out;
}

/** One unidirectional stream the peer opened. */
class PeerUniStream implements H3FrameHandler {
  /** Stream type, -1 until its varint has arrived. */
  type = -1;
  readonly typeBytes = new Uint8Array(8);
  typeLength = 0;
  reader: H3FrameReader | undefined;
  /** Unparsed bytes of a QPACK decoder stream instruction. */
  pending: number[] = [];
  ignored = false;

  constructor(
    readonly id: number,
    private readonly owner: H3Connection,
  ) {}

  onFrame(type: number, payload: Uint8Array): void {
    this.owner.onControlFrame(type, payload);
  }

  onDataFrame(): void {
    throw new H3Error(H3ErrorCode.H3_FRAME_UNEXPECTED, 'DATA frame on the control stream');
  }

  onData(): void {}
}

/** The shared part of HTTP/3 client and server connections. */
export abstract class H3Connection implements ConnectionApp, ByteConsumer {
  /** The peer's SETTINGS, once received. */
  peerSettings: Map<number, number> | undefined;
  /** Stream ID in the peer's GOAWAY, once received. */
  goawayId: number | undefined;
  /** Set when the connection was closed because of an HTTP/3 error we detected. */
  error: H3Error | undefined;
  private readonly peerUni = new Map<number, PeerUniStream>();
  private readonly peerCritical = new Map<number, number>();
  private localControl = -1;
  private localEncoder = -1;
  private localDecoder = -1;
  private started = false;

  constructor(
    readonly ec: EndpointConnection,
    readonly role: 'client' | 'server',
  ) {}

  /** Opens our control stream (with SETTINGS) and QPACK streams. Call once the handshake is done. */
  start(): void {
    if (this.started) return;
    this.started = true;
    const control = this.ec.openStream(false);
    const encoder = this.ec.openStream(false);
    const decoder = this.ec.openStream(false);
    if (control === undefined || encoder === undefined || decoder === undefined) {
      // RFC 9114 §6.2: the peer must allow at least three unidirectional streams.
      this.fail(new H3Error(H3ErrorCode.H3_STREAM_CREATION_ERROR, 'the peer allows fewer than 3 unidirectional streams'));
      return;
    }
    this.localControl = control;
    this.localEncoder = encoder;
    this.localDecoder = decoder;
    this.ec.write(control, encodeVarint(H3StreamType.CONTROL));
    this.ec.write(control, encodeH3Frame(H3FrameType.SETTINGS, encodeSettings(LOCAL_SETTINGS)));
    this.ec.write(encoder, encodeVarint(H3StreamType.QPACK_ENCODER));
    this.ec.write(decoder, encodeVarint(H3StreamType.QPACK_DECODER));
  }

  onEvent(e: ConnectionEvent): void {
    if (this.error !== undefined && e.type !== 'closed') return;
    try {
      switch (e.type) {
        case 'streamOpened':
          if (isUnidirectional(e.streamId)) this.peerUni.set(e.streamId, new PeerUniStream(e.streamId, this));
          else this.onPeerBidiStream(e.streamId);
          return;
        case 'streamReadable':
          if (isUnidirectional(e.streamId)) this.readPeerUni(e.streamId);
          else this.onRequestStreamReadable(e.streamId);
          return;
        case 'streamReset':
          if (this.peerCritical.has(e.streamId)) throw new H3Error(H3ErrorCode.H3_CLOSED_CRITICAL_STREAM, `critical stream ${e.streamId} was reset`);
          if (!isUnidirectional(e.streamId)) this.onRequestStreamReset(e.streamId, e.errorCode);
          return;
        case 'streamStopSending':
          if (e.streamId === this.localControl || e.streamId === this.localEncoder || e.streamId === this.localDecoder) {
            throw new H3Error(H3ErrorCode.H3_CLOSED_CRITICAL_STREAM, `the peer asked us to stop sending on critical stream ${e.streamId}`);
          }
          return;
        case 'closed':
          this.onClosed(e.info);
          return;
        default:
          return;
      }
    } catch (err) {
      this.fail(err);
    }
  }

  /** Reports an error: a stream error resets that stream, anything else closes the connection. */
  fail(err: unknown): void {
    const h3 = err instanceof H3Error ? err : new H3Error(H3ErrorCode.H3_INTERNAL_ERROR, err instanceof Error ? err.message : String(err));
    if (h3.streamId !== undefined) {
      this.onStreamError(h3);
      try {
        this.ec.stopSending(h3.streamId, h3.code);
        this.ec.resetStream(h3.streamId, h3.code);
      } catch {
        // The stream is already gone.
      }
      return;
    }
    if (this.error !== undefined) return;
    this.error = h3;
    try {
      this.ec.close(h3.code, h3.message);
    } catch {
      // Already closing.
    }
    // Requests in progress end now, not after the closing period.
    this.onClosed({ source: 'application', code: BigInt(h3.code), frameType: 0, reason: h3.message });
  }

  consume(streamId: number, data: Uint8Array): void {
    const s = this.peerUni.get(streamId);
    if (s === undefined || s.ignored) return;
    let p = 0;
    if (s.type < 0) {
      while (p < data.length && s.type < 0) {
        s.typeBytes[s.typeLength++] = data[p++]!;
        if (s.typeLength === varintLengthFromFirstByte(s.typeBytes[0]!)) {
          s.type = readVarintAt(s.typeBytes, 0, s.typeLength);
          this.onUniStreamType(s);
        }
      }
      if (s.ignored || p === data.length) return;
      data = data.subarray(p);
    }
    switch (s.type) {
      case H3StreamType.CONTROL:
        s.reader!.push(data);
        return;
      case H3StreamType.QPACK_ENCODER:
        // With capacity 0 the only valid instruction is Set Dynamic Table Capacity 0 (0x20).
        for (let i = 0; i < data.length; i++) {
          if (data[i] !== 0x20) throw new H3Error(H3ErrorCode.QPACK_ENCODER_STREAM_ERROR, 'encoder instruction for a dynamic table of capacity 0');
        }
        return;
      case H3StreamType.QPACK_DECODER:
        this.decoderInstructions(s, data);
        return;
    }
  }

  /** The peer's control frames (RFC 9114 §6.2.1, §7.2). */
  onControlFrame(type: number, payload: Uint8Array): void {
    if (this.peerSettings === undefined) {
      if (type !== H3FrameType.SETTINGS) throw new H3Error(H3ErrorCode.H3_MISSING_SETTINGS, `first control frame is 0x${type.toString(16)}, not SETTINGS`);
      this.peerSettings = decodeSettings(payload);
      return;
    }
    switch (type) {
      case H3FrameType.SETTINGS:
        throw new H3Error(H3ErrorCode.H3_FRAME_UNEXPECTED, 'second SETTINGS frame');
      case H3FrameType.HEADERS:
      case H3FrameType.PUSH_PROMISE:
        throw new H3Error(H3ErrorCode.H3_FRAME_UNEXPECTED, `frame 0x${type.toString(16)} on the control stream`);
      case H3FrameType.GOAWAY: {
        const id = decodeSingleVarint(payload, 'GOAWAY');
        // From a server the ID is a client-initiated bidirectional stream ID (RFC 9114 §5.2).
        if (this.role === 'client' && (isUnidirectional(id) || !isClientInitiated(id))) {
          throw new H3Error(H3ErrorCode.H3_ID_ERROR, `GOAWAY with stream ID ${id}`);
        }
        if (this.goawayId !== undefined && id > this.goawayId) throw new H3Error(H3ErrorCode.H3_ID_ERROR, 'GOAWAY ID increased');
        this.goawayId = id;
        return;
      }
      case H3FrameType.MAX_PUSH_ID:
        if (this.role === 'client') throw new H3Error(H3ErrorCode.H3_FRAME_UNEXPECTED, 'MAX_PUSH_ID from a server');
        decodeSingleVarint(payload, 'MAX_PUSH_ID');
        return;
      case H3FrameType.CANCEL_PUSH:
        decodeSingleVarint(payload, 'CANCEL_PUSH');
        // A client never allowed a push, so no push ID is valid (RFC 9114 §7.2.3).
        if (this.role === 'client') throw new H3Error(H3ErrorCode.H3_ID_ERROR, 'CANCEL_PUSH without MAX_PUSH_ID');
        return;
      default:
        if (isReservedHttp2FrameType(type)) throw new H3Error(H3ErrorCode.H3_FRAME_UNEXPECTED, `HTTP/2 frame type 0x${type.toString(16)}`);
        return; // unknown frame types are ignored (RFC 9114 §9)
    }
  }

  /** A peer-initiated bidirectional stream appeared. */
  protected abstract onPeerBidiStream(streamId: number): void;
  /** A bidirectional (request) stream has data. */
  protected abstract onRequestStreamReadable(streamId: number): void;
  /** The peer reset a request stream. */
  protected abstract onRequestStreamReset(streamId: number, errorCode: bigint): void;
  /** A request stream failed with a stream error (it is reset right after). */
  protected abstract onStreamError(err: H3Error): void;
  /** The connection ended. */
  protected abstract onClosed(info: ConnectionCloseInfo): void;

  private readPeerUni(streamId: number): void {
    // Peer streams are registered when they open (streamOpened); one that ended has nothing more to read.
    const s = this.peerUni.get(streamId);
    if (s === undefined) return;
    const outcome = readAvailable(this.ec, streamId, this);
    if (outcome === ReadOutcome.Drained) return;
    this.peerUni.delete(streamId);
    if (this.peerCritical.has(streamId)) {
      throw new H3Error(H3ErrorCode.H3_CLOSED_CRITICAL_STREAM, `critical stream ${streamId} (type 0x${s.type.toString(16)}) was closed`);
    }
  }

  private onUniStreamType(s: PeerUniStream): void {
    const t = s.type;
    if (t === H3StreamType.CONTROL || t === H3StreamType.QPACK_ENCODER || t === H3StreamType.QPACK_DECODER) {
      for (const [id, type] of this.peerCritical) {
        if (type === t) throw new H3Error(H3ErrorCode.H3_STREAM_CREATION_ERROR, `second stream of type 0x${t.toString(16)} (${id} and ${s.id})`);
      }
      this.peerCritical.set(s.id, t);
      if (t === H3StreamType.CONTROL) s.reader = new H3FrameReader(s, 16 * 1024);
      return;
    }
    if (t === H3StreamType.PUSH) {
      // A server must not open push streams unless the client sent MAX_PUSH_ID, which we never do.
      if (this.role === 'client') throw new H3Error(H3ErrorCode.H3_ID_ERROR, 'push stream without MAX_PUSH_ID');
      throw new H3Error(H3ErrorCode.H3_STREAM_CREATION_ERROR, 'push stream from a client');
    }
    // Unknown (or reserved) type: abort reading (RFC 9114 §6.2).
    s.ignored = true;
    this.ec.stopSending(s.id, H3ErrorCode.H3_STREAM_CREATION_ERROR);
  }

  /** QPACK decoder stream (RFC 9204 §4.4): only Stream Cancellation is valid when we never use the dynamic table. */
  private decoderInstructions(s: PeerUniStream, data: Uint8Array): void {
    for (let i = 0; i < data.length; i++) s.pending.push(data[i]!);
    for (;;) {
      const buf = s.pending;
      if (buf.length === 0) return;
      const first = buf[0]!;
      if ((first & 0x80) !== 0) throw new H3Error(H3ErrorCode.QPACK_DECODER_STREAM_ERROR, 'Section Acknowledgment for a section without dynamic references');
      if ((first & 0x40) === 0) throw new H3Error(H3ErrorCode.QPACK_DECODER_STREAM_ERROR, 'Insert Count Increment with no inserts');
      // Stream Cancellation: 01 + 6-bit prefixed stream ID.
      let end = 1;
      if ((first & 0x3f) === 0x3f) {
        while (end < buf.length && (buf[end]! & 0x80) !== 0) end++;
        if (end >= buf.length) return; // incomplete
        end++;
        if (end > 10) throw new H3Error(H3ErrorCode.QPACK_DECODER_STREAM_ERROR, 'integer too long');
      }
      s.pending = buf.slice(end);
    }
  }
}
