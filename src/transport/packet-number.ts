/**
 * Packet number encoding and decoding (RFC 9000 §17.1, Appendix A.2 and A.3). A packet number
 * is sent truncated to its 1–4 low-order bytes; the receiver restores it from the largest
 * packet number it has processed in the same space.
 *
 * Numbers here are JS numbers, exact below 2^53 (a connection would need centuries at 100k
 * packets/s to get there); `decodePacketNumberBig` covers the full 62-bit range.
 */

/** Packet numbers are 62-bit: 0..2^62-1. */
export const PACKET_NUMBER_MAX = 0x3fffffffffffffffn;

/**
 * Bytes (1–4) to send `fullPn` with, given the largest packet number the peer has acknowledged
 * in this space (`undefined` if none): the RFC 9000 Appendix A.2 rule, enough bits for twice
 * the number of packets in flight. Throws RangeError if `fullPn` is not above `largestAcked`
 * or the gap needs more than 4 bytes.
 */
export function packetNumberLength(fullPn: number, largestAcked: number | undefined): 1 | 2 | 3 | 4 {
  const numUnacked = largestAcked === undefined ? fullPn + 1 : fullPn - largestAcked;
  if (!Number.isSafeInteger(fullPn) || fullPn < 0 || !(numUnacked >= 1)) {
    throw new RangeError(`packet number ${fullPn} must be a non-negative integer above the largest acknowledged ${String(largestAcked)}`);
  }
  // ceil((log2(numUnacked) + 1) / 8) bytes, i.e. the smallest n with numUnacked <= 2^(8n-1).
  if (numUnacked <= 0x80) return 1;
  if (numUnacked <= 0x8000) return 2;
  if (numUnacked <= 0x80_0000) return 3;
  if (numUnacked <= 0x8000_0000) return 4;
  throw new RangeError(`packet number ${fullPn} is ${numUnacked} past the largest acknowledged: more than 4 bytes`);
}

/** Writes the low `length` (1–4) bytes of `pn` big-endian at `offset`; returns the offset after them. */
export function writePacketNumber(buf: Uint8Array, offset: number, pn: number, length: number): number {
  if (length < 1 || length > 4 || !Number.isInteger(length)) throw new RangeError(`packet number length ${length} is not 1..4`);
  if (offset < 0 || offset + length > buf.length) {
    throw new RangeError(`packet number of ${length} bytes at offset ${offset} does not fit in a buffer of ${buf.length} bytes`);
  }
  const low = pn >>> 0; // exact modulo 2^32 for every safe integer
  for (let i = length - 1; i >= 0; i--) buf[offset + length - 1 - i] = (low >>> (8 * i)) & 0xff;
  return offset + length;
}

/** Reads a truncated packet number of `length` (1–4) bytes at `offset` (the caller checked the bounds). */
export function readTruncatedPacketNumber(buf: Uint8Array, offset: number, length: number): number {
  let v = 0;
  for (let i = 0; i < length; i++) v = v * 256 + buf[offset + i]!;
  return v;
}

/**
 * The full packet number closest to `largestPn + 1` whose low `pnBits` bits are `truncatedPn`
 * (RFC 9000 Appendix A.3). `largestPn` is the largest packet number processed in the space,
 * or -1 if none. Exact while `largestPn + 2^32` stays below 2^53.
 */
export function decodePacketNumber(largestPn: number, truncatedPn: number, pnBits: number): number {
  const expected = largestPn + 1;
  const win = 2 ** pnBits;
  const halfWin = win / 2;
  const candidate = expected - (expected % win) + truncatedPn;
  // The upper bound stops the result stepping past 2^62-1; unreachable below 2^53.
  if (candidate <= expected - halfWin && candidate < 2 ** 62 - win) return candidate + win;
  if (candidate > expected + halfWin && candidate >= win) return candidate - win;
  return candidate;
}

/** `decodePacketNumber` over bigints, exact over the full 62-bit range. */
export function decodePacketNumberBig(largestPn: bigint, truncatedPn: bigint, pnBits: number): bigint {
  const expected = largestPn + 1n;
  const win = 1n << BigInt(pnBits);
  const halfWin = win >> 1n;
  const candidate = (expected & ~(win - 1n)) | truncatedPn;
  if (candidate <= expected - halfWin && candidate < (1n << 62n) - win) return candidate + win;
  if (candidate > expected + halfWin && candidate >= win) return candidate - win;
  return candidate;
}
