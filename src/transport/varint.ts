/**
 * QUIC variable-length integers (RFC 9000 §16): the two high bits of the first byte give the
 * encoded length (1, 2, 4 or 8 bytes), the remaining bits the value, big-endian, up to 2^62-1.
 *
 * Numbers: a JS `number` is exact only up to 2^53-1. The `number` readers here *saturate*:
 * an encoded value above 2^53-1 reads as `Number.MAX_SAFE_INTEGER`. Every number-typed QUIC
 * field (stream IDs, offsets, limits, packet numbers) is then a limit or ID that the layer
 * above rejects by its own range checks, so saturation never silently accepts anything.
 * Fields that must round-trip the whole 62-bit range exactly (error codes) use the `bigint`
 * variants. Decoding accepts non-minimal encodings (RFC 9000 §16 permits them).
 */

/** Largest value a varint can carry: 2^62-1. */
export const VARINT_MAX = 0x3fffffffffffffffn;

/** Largest value of a 1-byte varint. */
export const VARINT_MAX_1 = 0x3f;
/** Largest value of a 2-byte varint. */
export const VARINT_MAX_2 = 0x3fff;
/** Largest value of a 4-byte varint. */
export const VARINT_MAX_4 = 0x3fffffff;

const TWO_POW_32 = 0x1_0000_0000;
/** 8-byte varints whose upper 30-bit half reaches this do not fit in 53 bits. */
const SAFE_HIGH_LIMIT = 0x20_0000;

function invalidNumber(value: number): RangeError {
  return new RangeError(`varint value ${value} is not an integer in 0..2^53-1`);
}

function invalidBigint(value: bigint): RangeError {
  return new RangeError(`varint value ${value} is outside 0..2^62-1`);
}

function noRoom(length: number, offset: number, capacity: number): RangeError {
  return new RangeError(`varint of ${length} bytes at offset ${offset} does not fit in a buffer of ${capacity} bytes`);
}

/** Encoded size (1, 2, 4 or 8) of the shortest encoding of `value`. Throws RangeError if not a safe non-negative integer. */
export function varintLength(value: number): 1 | 2 | 4 | 8 {
  if (!Number.isSafeInteger(value) || value < 0) throw invalidNumber(value);
  return value <= VARINT_MAX_1 ? 1 : value <= VARINT_MAX_2 ? 2 : value <= VARINT_MAX_4 ? 4 : 8;
}

/** Encoded size (1, 2, 4 or 8) of the shortest encoding of a bigint `value`. Throws RangeError outside 0..2^62-1. */
export function varintLengthBig(value: bigint): 1 | 2 | 4 | 8 {
  if (value < 0n || value > VARINT_MAX) throw invalidBigint(value);
  return value <= 0x3fn ? 1 : value <= 0x3fffn ? 2 : value <= 0x3fffffffn ? 4 : 8;
}

/** Encoded size of the varint whose first byte is `firstByte` (from its two high bits). */
export function varintLengthFromFirstByte(firstByte: number): 1 | 2 | 4 | 8 {
  return (1 << (firstByte >> 6)) as 1 | 2 | 4 | 8;
}

/**
 * Writes `value` in exactly `length` bytes (1, 2, 4 or 8), which may be longer than the
 * shortest form (used for placeholders patched later). Returns the offset after it.
 * Throws RangeError if the value does not fit in that length or the buffer is too small.
 */
export function writeVarintWithLength(buf: Uint8Array, offset: number, value: number, length: 1 | 2 | 4 | 8): number {
  if (!Number.isSafeInteger(value) || value < 0) throw invalidNumber(value);
  if (offset + length > buf.length || offset < 0) throw noRoom(length, offset, buf.length);
  switch (length) {
    case 1:
      if (value > VARINT_MAX_1) break;
      buf[offset] = value;
      return offset + 1;
    case 2:
      if (value > VARINT_MAX_2) break;
      buf[offset] = 0x40 | (value >> 8);
      buf[offset + 1] = value & 0xff;
      return offset + 2;
    case 4:
      if (value > VARINT_MAX_4) break;
      buf[offset] = 0x80 | (value >>> 24);
      buf[offset + 1] = (value >>> 16) & 0xff;
      buf[offset + 2] = (value >>> 8) & 0xff;
      buf[offset + 3] = value & 0xff;
      return offset + 4;
    case 8: {
      return writeEightByte(buf, offset, Math.floor(value / TWO_POW_32), value >>> 0);
    }
    default:
      throw new RangeError(`varint length ${String(length)} is not 1, 2, 4 or 8`);
  }
  throw new RangeError(`varint value ${value} does not fit in ${length} bytes`);
}

/** The 8-byte form (prefix 0b11) of a value given as its high and low 32 bits. */
function writeEightByte(buf: Uint8Array, offset: number, high: number, low: number): number {
  buf[offset] = 0xc0 | (high >>> 24);
  buf[offset + 1] = (high >>> 16) & 0xff;
  buf[offset + 2] = (high >>> 8) & 0xff;
  buf[offset + 3] = high & 0xff;
  buf[offset + 4] = low >>> 24;
  buf[offset + 5] = (low >>> 16) & 0xff;
  buf[offset + 6] = (low >>> 8) & 0xff;
  buf[offset + 7] = low & 0xff;
  return offset + 8;
}

/** Writes the shortest encoding of `value` at `offset`; returns the offset after it. Throws RangeError on a bad value or a short buffer. */
export function writeVarint(buf: Uint8Array, offset: number, value: number): number {
  return writeVarintWithLength(buf, offset, value, varintLength(value));
}

/** Writes the shortest encoding of a bigint `value` (0..2^62-1); returns the offset after it. */
export function writeVarintBig(buf: Uint8Array, offset: number, value: bigint): number {
  const length = varintLengthBig(value);
  if (length < 8) return writeVarintWithLength(buf, offset, Number(value), length);
  if (offset + 8 > buf.length || offset < 0) throw noRoom(8, offset, buf.length);
  return writeEightByte(buf, offset, Number(value >> 32n), Number(value & 0xffffffffn));
}

/**
 * Reads the varint at `offset` without reading at or past `end`. Returns its value, saturated
 * to `Number.MAX_SAFE_INTEGER` above 2^53-1, or -1 if the input ends inside the varint. Its
 * length is `varintLengthFromFirstByte(buf[offset])`. Never throws: for parsers that turn
 * truncation into a status rather than an exception.
 */
export function readVarintAt(buf: Uint8Array, offset: number, end: number): number {
  if (offset >= end) return -1;
  const first = buf[offset]!;
  switch (first >> 6) {
    case 0:
      return first;
    case 1:
      if (offset + 2 > end) return -1;
      return ((first & 0x3f) << 8) | buf[offset + 1]!;
    case 2:
      if (offset + 4 > end) return -1;
      return (
        (first & 0x3f) * 0x100_0000 + ((buf[offset + 1]! << 16) | (buf[offset + 2]! << 8) | buf[offset + 3]!)
      );
    default: {
      if (offset + 8 > end) return -1;
      const high =
        (first & 0x3f) * 0x100_0000 + ((buf[offset + 1]! << 16) | (buf[offset + 2]! << 8) | buf[offset + 3]!);
      if (high >= SAFE_HIGH_LIMIT) return Number.MAX_SAFE_INTEGER;
      const low = buf[offset + 4]! * 0x100_0000 + ((buf[offset + 5]! << 16) | (buf[offset + 6]! << 8) | buf[offset + 7]!);
      return high * TWO_POW_32 + low;
    }
  }
}

/** Reads the varint at `offset` exactly as a bigint, or returns -1n if the input ends inside it (never reads at or past `end`). */
export function readVarintBigAt(buf: Uint8Array, offset: number, end: number): bigint {
  if (offset >= end) return -1n;
  const length = varintLengthFromFirstByte(buf[offset]!);
  if (offset + length > end) return -1n;
  if (length < 8) return BigInt(readVarintAt(buf, offset, end));
  const high =
    (buf[offset]! & 0x3f) * 0x100_0000 + ((buf[offset + 1]! << 16) | (buf[offset + 2]! << 8) | buf[offset + 3]!);
  const low = buf[offset + 4]! * 0x100_0000 + ((buf[offset + 5]! << 16) | (buf[offset + 6]! << 8) | buf[offset + 7]!);
  return (BigInt(high) << 32n) | BigInt(low);
}

/** True if the varint at `offset` (complete within `end`) uses more bytes than its value needs. */
export function isNonMinimalVarintAt(buf: Uint8Array, offset: number, end: number): boolean {
  const length = varintLengthFromFirstByte(buf[offset]!);
  if (length === 1) return false;
  const value = readVarintBigAt(buf, offset, end);
  return value >= 0n && varintLengthBig(value) < length;
}
