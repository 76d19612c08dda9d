/**
 * A bounds-checked cursor over a byte view, for decoding frames and transport parameters.
 * Running past the end never yields `undefined` or a RangeError: it throws a `QuicError`
 * with the error code (and frame type) the current decoding context says the RFC requires.
 * Byte strings come back as `subarray` views of the input, never copies.
 */

import { QuicError, TransportError } from './errors.js';
import { readVarintAt, readVarintBigAt, varintLengthFromFirstByte } from './varint.js';

const EMPTY = new Uint8Array(0);

export class BufferReader {
  /** The underlying bytes. */
  buf: Uint8Array;
  /** Offset of the next byte to read. */
  pos: number;
  /** Offset one past the last readable byte. */
  end: number;
  /** Transport error code thrown when the input is malformed or truncated. */
  errorCode: number;
  /** Frame type reported with errors (set by a frame decoder before reading a frame's fields). */
  frameType: number | undefined;

  /** A reader over `buf[start, end)` that reports malformed input with `errorCode` (default FRAME_ENCODING_ERROR). */
  constructor(
    buf: Uint8Array = EMPTY,
    start = 0,
    end = buf.length,
    errorCode: number = TransportError.FRAME_ENCODING_ERROR,
  ) {
    if (start < 0 || end > buf.length || start > end) {
      throw new RangeError(`reader window [${start}, ${end}) is outside a buffer of ${buf.length} bytes`);
    }
    this.buf = buf;
    this.pos = start;
    this.end = end;
    this.errorCode = errorCode;
    this.frameType = undefined;
  }

  /** Points the reader at new input, keeping its error code (lets one reader be reused per packet). */
  reset(buf: Uint8Array, start = 0, end = buf.length): void {
    if (start < 0 || end > buf.length || start > end) {
      throw new RangeError(`reader window [${start}, ${end}) is outside a buffer of ${buf.length} bytes`);
    }
    this.buf = buf;
    this.pos = start;
    this.end = end;
    this.frameType = undefined;
  }

  /** Bytes left to read. */
  get remaining(): number {
    return this.end - this.pos;
  }

  /** Throws the context's QuicError with `reason`. */
  fail(reason: string): never {
    throw new QuicError(this.errorCode, reason, this.frameType);
  }

  /** One byte. */
  u8(): number {
    if (this.pos >= this.end) this.fail('input ends before a 1-byte field');
    return this.buf[this.pos++]!;
  }

  /** A big-endian 16-bit integer. */
  u16(): number {
    const p = this.pos;
    if (p + 2 > this.end) this.fail('input ends inside a 2-byte field');
    this.pos = p + 2;
    return (this.buf[p]! << 8) | this.buf[p + 1]!;
  }

  /** A big-endian 32-bit unsigned integer. */
  u32(): number {
    const p = this.pos;
    if (p + 4 > this.end) this.fail('input ends inside a 4-byte field');
    this.pos = p + 4;
    const b = this.buf;
    return b[p]! * 0x100_0000 + ((b[p + 1]! << 16) | (b[p + 2]! << 8) | b[p + 3]!);
  }

  /** A varint, saturated to `Number.MAX_SAFE_INTEGER` above 2^53-1 (see varint.ts). */
  varint(): number {
    const v = readVarintAt(this.buf, this.pos, this.end);
    if (v < 0) this.fail('input ends inside a variable-length integer');
    this.pos += varintLengthFromFirstByte(this.buf[this.pos]!);
    return v;
  }

  /** A varint, exact over the full 62-bit range. */
  varintBig(): bigint {
    const v = readVarintBigAt(this.buf, this.pos, this.end);
    if (v < 0n) this.fail('input ends inside a variable-length integer');
    this.pos += varintLengthFromFirstByte(this.buf[this.pos]!);
    return v;
  }

  /**
   * A varint that must not exceed `max`, checked exactly even where the number result
   * saturates (e.g. the 2^60 stream-count limit). Fails with `reason` when it does.
   */
  varintAtMost(max: bigint, reason: string): number {
    const start = this.pos;
    const v = this.varint();
    const exceeds =
      v === Number.MAX_SAFE_INTEGER ? readVarintBigAt(this.buf, start, this.end) > max : BigInt(v) > max;
    if (exceeds) this.fail(reason);
    return v;
  }

  /** A view of the next `length` bytes (no copy). */
  bytes(length: number): Uint8Array {
    const p = this.pos;
    if (length > this.end - p) this.fail(`input ends inside a ${length}-byte field`);
    this.pos = p + length;
    return this.buf.subarray(p, p + length);
  }

  /** A view of everything left. */
  rest(): Uint8Array {
    const p = this.pos;
    this.pos = this.end;
    return this.buf.subarray(p, this.end);
  }

  /** Advances past `length` bytes. */
  skip(length: number): void {
    if (length > this.end - this.pos) this.fail(`input ends inside a ${length}-byte field`);
    this.pos += length;
  }
}
