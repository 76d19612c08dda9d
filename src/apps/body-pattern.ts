/**
 * The bytes purequic's servers send for a generated body (`/<digits>` paths and perf): a fixed
 * pseudo-random sequence with a prime period, so a receiver can check every byte cheaply and
 * reordered or repeated pieces cannot go unnoticed. Byte `i` of every body is
 * `bodyPatternByte(i)`; writers hand out views of one shared buffer (nothing is copied).
 */
import { Buffer } from 'node:buffer';
import { createHash } from 'node:crypto';

/** Period of the pattern (the largest prime below 2^16). */
export const BODY_PATTERN_PERIOD = 65521;
/** Largest view `bodyPatternView` returns. */
export const BODY_PATTERN_MAX_VIEW = 65536;

const PATTERN = new Uint8Array(BODY_PATTERN_PERIOD + BODY_PATTERN_MAX_VIEW);
(function fill(): void {
  // xorshift32 from a fixed seed: deterministic, no zero runs.
  let x = 0x9e3779b9;
  for (let i = 0; i < BODY_PATTERN_PERIOD; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    PATTERN[i] = x & 0xff;
  }
  // The tail repeats the start, so any view of up to BODY_PATTERN_MAX_VIEW bytes is contiguous.
  // (Not copyWithin: the tail is longer than the period, so it must copy bytes it has just written.)
  for (let i = BODY_PATTERN_PERIOD; i < PATTERN.length; i++) PATTERN[i] = PATTERN[i - BODY_PATTERN_PERIOD]!;
})();

/** Byte `offset` of a generated body. */
export function bodyPatternByte(offset: number): number {
  return PATTERN[offset % BODY_PATTERN_PERIOD]!;
}

/**
 * A read-only view of bytes [offset, offset + length) of a generated body; `length` is at most
 * `BODY_PATTERN_MAX_VIEW`. Do not modify it: every body shares the buffer.
 */
export function bodyPatternView(offset: number, length: number): Uint8Array {
  if (!(length >= 0 && length <= BODY_PATTERN_MAX_VIEW)) throw new RangeError(`length must be 0..${BODY_PATTERN_MAX_VIEW}, got ${length}`);
  const start = offset % BODY_PATTERN_PERIOD;
  return PATTERN.subarray(start, start + length);
}

/** Hex SHA-256 of the first `length` bytes of a generated body. */
export function bodyPatternSha256(length: number): string {
  const h = createHash('sha256');
  for (let off = 0; off < length; off += BODY_PATTERN_MAX_VIEW) h.update(bodyPatternView(off, Math.min(BODY_PATTERN_MAX_VIEW, length - off)));
  return h.digest('hex');
}

/** Checks received bytes, in order, against the generated body. */
export class BodyPatternChecker {
  /** Bytes checked so far. */
  offset = 0;
  /** Offset of the first byte that differed, or -1. */
  firstMismatch = -1;

  /** Checks the next received bytes. */
  update(data: Uint8Array): void {
    if (this.firstMismatch < 0) {
      let p = 0;
      while (p < data.length) {
        const n = Math.min(BODY_PATTERN_MAX_VIEW, data.length - p);
        const expected = bodyPatternView(this.offset + p, n);
        const got = p === 0 && n === data.length ? data : data.subarray(p, p + n);
        if (Buffer.compare(got, expected) !== 0) {
          for (let i = 0; i < n; i++) {
            if (got[i] !== expected[i]) {
              this.firstMismatch = this.offset + p + i;
              break;
            }
          }
          break;
        }
        p += n;
      }
    }
    this.offset += data.length;
  }

  /** True when every byte so far matched. */
  get ok(): boolean {
    return this.firstMismatch < 0;
  }
}
