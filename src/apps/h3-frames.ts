/**
 * HTTP/3 frame layout (RFC 9114 §7.1: type varint, length varint, payload): encoding helpers and
 * an incremental reader that splits a stream's bytes into frames as they arrive. DATA payloads
 * are passed through as views of the input (never copied); other frames are collected up to a
 * size limit; frames of unknown types are skipped without being buffered (RFC 9114 §9).
 */
import { readVarintAt, varintLength, varintLengthFromFirstByte, writeVarint } from '../transport/varint.js';
import { H3Error, H3ErrorCode, H3FrameType } from './h3-constants.js';

/** Encodes one frame. */
export function encodeH3Frame(type: number, payload: Uint8Array = new Uint8Array(0)): Uint8Array {
  const out = new Uint8Array(varintLength(type) + varintLength(payload.length) + payload.length);
  let p = writeVarint(out, 0, type);
  p = writeVarint(out, p, payload.length);
  out.set(payload, p);
  return out;
}

/** The header of a DATA frame of `length` bytes (the payload follows separately). */
export function encodeDataFrameHeader(length: number): Uint8Array {
  const out = new Uint8Array(1 + varintLength(length));
  writeVarint(out, writeVarint(out, 0, H3FrameType.DATA), length);
  return out;
}

/** A SETTINGS frame payload: identifier/value pairs. */
export function encodeSettings(settings: ReadonlyArray<readonly [number, number]>): Uint8Array {
  let n = 0;
  for (const [id, value] of settings) n += varintLength(id) + varintLength(value);
  const out = new Uint8Array(n);
  let p = 0;
  for (const [id, value] of settings) p = writeVarint(out, writeVarint(out, p, id), value);
  return out;
}

/** A varint stream type (the first bytes of a unidirectional stream) or a GOAWAY/MAX_PUSH_ID payload. */
export function encodeVarint(value: number): Uint8Array {
  const out = new Uint8Array(varintLength(value));
  writeVarint(out, 0, value);
  return out;
}

/**
 * Decodes a payload that is exactly one varint (GOAWAY, MAX_PUSH_ID, CANCEL_PUSH); anything
 * else is H3_FRAME_ERROR.
 */
export function decodeSingleVarint(payload: Uint8Array, frameName: string): number {
  const v = readVarintAt(payload, 0, payload.length);
  if (v < 0 || varintLengthFromFirstByte(payload[0]!) !== payload.length) {
    throw new H3Error(H3ErrorCode.H3_FRAME_ERROR, `malformed ${frameName} frame`);
  }
  return v;
}

/** What an `H3FrameReader` reports, in stream order. */
export interface H3FrameHandler {
  /** A complete frame other than DATA (known types only; unknown ones are skipped). */
  onFrame(type: number, payload: Uint8Array): void;
  /** A DATA frame starts (its payload follows through `onData`, possibly in several pieces). */
  onDataFrame(length: number): void;
  /** A piece of DATA payload: a view of the bytes given to `push`, valid during the call. */
  onData(data: Uint8Array): void;
}

const ReaderState = { Header: 0, Data: 1, Collect: 2, Skip: 3 } as const;
type ReaderState = (typeof ReaderState)[keyof typeof ReaderState];

/** Frame types whose payload is collected and handed over (the rest but DATA are skipped). */
function isCollected(type: number): boolean {
  return type === H3FrameType.HEADERS || type === H3FrameType.SETTINGS || type === H3FrameType.GOAWAY ||
    type === H3FrameType.MAX_PUSH_ID || type === H3FrameType.CANCEL_PUSH || type === H3FrameType.PUSH_PROMISE ||
    type === 0x02 || type === 0x06 || type === 0x08 || type === 0x09;
}

/**
 * Splits one stream's bytes into HTTP/3 frames. Frames larger than `maxFramePayload` (other
 * than DATA and skipped ones) are H3_EXCESSIVE_LOAD; a stream that ends inside a frame is
 * H3_FRAME_ERROR (RFC 9114 §7.1).
 */
export class H3FrameReader {
  private state: ReaderState = ReaderState.Header;
  private readonly header = new Uint8Array(16);
  private headerLength = 0;
  private frameType = 0;
  private remaining = 0;
  private collected: Uint8Array = new Uint8Array(0);
  private collectedLength = 0;

  constructor(
    private readonly handler: H3FrameHandler,
    readonly maxFramePayload = 64 * 1024,
  ) {}

  /** True between frames (a FIN here is a clean end). */
  get atFrameBoundary(): boolean {
    return this.state === ReaderState.Header && this.headerLength === 0;
  }

  /** Feeds the next bytes of the stream. */
  push(data: Uint8Array): void {
    let p = 0;
    const n = data.length;
    while (p < n) {
      switch (this.state) {
        case ReaderState.Header: {
          this.header[this.headerLength++] = data[p++]!;
          this.tryHeader();
          break;
        }
        case ReaderState.Data: {
          const take = Math.min(this.remaining, n - p);
          this.remaining -= take;
          if (this.remaining === 0) this.state = ReaderState.Header;
          this.handler.onData(p === 0 && take === n ? data : data.subarray(p, p + take));
          p += take;
          break;
        }
        case ReaderState.Collect: {
          const take = Math.min(this.remaining, n - p);
          this.collected.set(data.subarray(p, p + take), this.collectedLength);
          this.collectedLength += take;
          this.remaining -= take;
          p += take;
          if (this.remaining === 0) this.finishCollected();
          break;
        }
        case ReaderState.Skip: {
          const take = Math.min(this.remaining, n - p);
          this.remaining -= take;
          p += take;
          if (this.remaining === 0) this.state = ReaderState.Header;
          break;
        }
      }
    }
  }

  /** The stream ended (FIN): throws H3_FRAME_ERROR when it ended inside a frame. */
  end(): void {
    if (!this.atFrameBoundary) throw new H3Error(H3ErrorCode.H3_FRAME_ERROR, 'stream ended inside a frame');
  }

  private tryHeader(): void {
    const h = this.header;
    const typeLength = varintLengthFromFirstByte(h[0]!);
    if (this.headerLength <= typeLength) return;
    const lengthLength = varintLengthFromFirstByte(h[typeLength]!);
    if (this.headerLength < typeLength + lengthLength) return;
    const type = readVarintAt(h, 0, typeLength);
    const length = readVarintAt(h, typeLength, typeLength + lengthLength);
    this.headerLength = 0;
    this.frameType = type;
    this.remaining = length;
    if (type === H3FrameType.DATA) {
      this.handler.onDataFrame(length);
      this.state = length === 0 ? ReaderState.Header : ReaderState.Data;
    } else if (isCollected(type)) {
      if (length > this.maxFramePayload) {
        throw new H3Error(H3ErrorCode.H3_EXCESSIVE_LOAD, `frame 0x${type.toString(16)} of ${length} bytes exceeds ${this.maxFramePayload}`);
      }
      if (this.collected.length < length) this.collected = new Uint8Array(Math.max(length, 256));
      this.collectedLength = 0;
      if (length === 0) this.finishCollected();
      else this.state = ReaderState.Collect;
    } else {
      this.state = length === 0 ? ReaderState.Header : ReaderState.Skip;
    }
  }

  private finishCollected(): void {
    this.state = ReaderState.Header;
    // A copy: the handler may keep the payload, and the buffer is reused for the next frame.
    this.handler.onFrame(this.frameType, this.collected.slice(0, this.collectedLength));
  }
}
