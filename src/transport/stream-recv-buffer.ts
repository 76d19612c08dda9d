import { QuicError, TransportError } from './errors.js';
import { RangeSet } from './range-set.js';

/**
 * The receive side of one stream's (or one CRYPTO level's) byte sequence: out-of-order,
 * duplicate and overlapping segments are reassembled exactly once into a ring buffer, and
 * read back in order. Data is copied once, from the packet into the ring. The final size
 * rules of RFC 9000 §4.5 are enforced here (FINAL_SIZE_ERROR); flow-control limits are the
 * caller's (the ring grows to whatever span the caller lets through).
 */
export class StreamRecvBuffer {
  private ring: Uint8Array;
  /** Offset of the next byte the application reads. */
  private readPos = 0;
  /** Offsets at or above readPos that have arrived. */
  private readonly received = new RangeSet();
  /** Highest end offset seen (RFC 9000's "largest offset received"). */
  private highest = 0;
  private final = -1;

  constructor(initialCapacity = 4096) {
    this.ring = new Uint8Array(initialCapacity);
  }

  /** Offset of the next byte to be read (= bytes consumed so far). */
  get readOffset(): number {
    return this.readPos;
  }

  /** The largest end offset received so far (for flow-control accounting). */
  get highestOffset(): number {
    return this.highest;
  }

  /** The final size, or -1 while unknown. */
  get finalSize(): number {
    return this.final;
  }

  /** Bytes readable now, in order. */
  get readable(): number {
    return this.received.contiguousEnd(this.readPos) - this.readPos;
  }

  /** True once every byte up to the final size has been read. */
  get isFinished(): boolean {
    return this.final >= 0 && this.readPos === this.final;
  }

  /** True when every byte up to the final size has arrived (read or not). */
  get isComplete(): boolean {
    return this.final >= 0 && this.received.contiguousEnd(this.readPos) >= this.final;
  }

  /**
   * Accepts `data` at `offset` (`fin` marks `offset + data.length` as the final size).
   * Returns how much the highest received offset grew (the flow-control increment).
   * Throws FINAL_SIZE_ERROR on a final size conflict; `frameType` goes into the error.
   */
  insert(offset: number, data: Uint8Array, fin: boolean, frameType?: number): number {
    const end = offset + data.length;
    if (this.final >= 0) {
      if (end > this.final || (fin && end !== this.final)) {
        throw new QuicError(TransportError.FINAL_SIZE_ERROR, `data up to ${end} beyond final size ${this.final}`, frameType);
      }
    } else if (fin) {
      if (end < this.highest) {
        throw new QuicError(TransportError.FINAL_SIZE_ERROR, `final size ${end} below data already received up to ${this.highest}`, frameType);
      }
      this.final = end;
    }
    const grew = end > this.highest ? end - this.highest : 0;
    if (grew > 0) this.highest = end;
    // Trim what was already read.
    let start = offset;
    let src = data;
    if (start < this.readPos) {
      if (end <= this.readPos) return grew;
      src = data.subarray(this.readPos - start);
      start = this.readPos;
    }
    if (src.length === 0) return grew;
    this.reserve(end - this.readPos);
    // Copy only the gaps: the first copy of every byte wins, duplicates and overlaps are
    // dropped without touching what is buffered.
    const rs = this.received;
    let i = rs.firstIndexEndingAfter(start);
    if (i === rs.rangeCount || rs.start(i) >= end) {
      this.copyIn(start, src);
    } else {
      let cur = start;
      while (cur < end) {
        const nextStart = i < rs.rangeCount ? rs.start(i) : end;
        if (nextStart > cur) {
          const gapEnd = Math.min(nextStart, end);
          this.copyIn(cur, src.subarray(cur - start, gapEnd - start));
          cur = gapEnd;
        } else {
          cur = Math.max(cur, rs.end(i));
          i++;
        }
      }
    }
    rs.add(start, end);
    return grew;
  }

  /** Records the final size from RESET_STREAM (RFC 9000 §4.5 checks apply). Returns the flow-control increment. */
  setFinalSizeFromReset(finalSize: number, frameType?: number): number {
    if (this.final >= 0 && finalSize !== this.final) {
      throw new QuicError(TransportError.FINAL_SIZE_ERROR, `reset final size ${finalSize} differs from ${this.final}`, frameType);
    }
    if (finalSize < this.highest) {
      throw new QuicError(TransportError.FINAL_SIZE_ERROR, `reset final size ${finalSize} below data received up to ${this.highest}`, frameType);
    }
    this.final = finalSize;
    const grew = finalSize - this.highest;
    this.highest = finalSize;
    return grew;
  }

  /** Reads up to `max` in-order bytes into a new array (empty when nothing is readable). */
  read(max = Infinity): Uint8Array {
    const n = Math.min(this.readable, max);
    const out = new Uint8Array(n);
    this.readInto(out, 0, n);
    return out;
  }

  /** Reads up to `n` in-order bytes into `dst` at `dstOffset`; returns the count. */
  readInto(dst: Uint8Array, dstOffset: number, n: number): number {
    n = Math.min(n, this.readable, dst.length - dstOffset);
    if (n <= 0) return 0;
    const cap = this.ring.length;
    const pos = this.readPos % cap;
    const first = Math.min(n, cap - pos);
    dst.set(this.ring.subarray(pos, pos + first), dstOffset);
    if (first < n) dst.set(this.ring.subarray(0, n - first), dstOffset + first);
    this.consume(n);
    return n;
  }

  /** Discards up to `n` readable bytes without copying them. */
  skip(n: number): number {
    n = Math.min(n, this.readable);
    this.consume(n);
    return n;
  }

  private consume(n: number): void {
    this.readPos += n;
    this.received.removeBelow(this.readPos);
  }

  private copyIn(offset: number, src: Uint8Array): void {
    const cap = this.ring.length;
    const pos = offset % cap;
    const first = Math.min(src.length, cap - pos);
    this.ring.set(first === src.length ? src : src.subarray(0, first), pos);
    if (first < src.length) this.ring.set(src.subarray(first), 0);
  }

  /** Makes the ring hold at least `span` bytes from readPos, preserving the unread content. */
  private reserve(span: number): void {
    const old = this.ring;
    if (span <= old.length) return;
    let cap = old.length * 2;
    while (cap < span) cap *= 2;
    const ring = new Uint8Array(cap);
    // Re-place every buffered byte (readPos .. highest received) at its new ring position.
    const oldCap = old.length;
    for (let i = 0; i < this.received.rangeCount; i++) {
      const s = this.received.start(i);
      const e = this.received.end(i);
      for (let o = s; o < e; ) {
        const p = o % oldCap;
        const len = Math.min(e - o, oldCap - p);
        const q = o % cap;
        const first = Math.min(len, cap - q);
        ring.set(old.subarray(p, p + first), q);
        if (first < len) ring.set(old.subarray(p + first, p + len), 0);
        o += len;
      }
    }
    this.ring = ring;
  }
}
