import { QuicError, TransportError } from './errors.js';
import { RangeSet } from './range-set.js';

const EMPTY = new Uint8Array(0);

/**
 * The receive side of one stream's (or one CRYPTO level's) byte sequence: out-of-order,
 * duplicate and overlapping segments are reassembled exactly once (the first copy of every
 * byte wins), and read back in order. The final size rules of RFC 9000 §4.5 are enforced here
 * (FINAL_SIZE_ERROR); flow-control limits are the caller's.
 *
 * Segments are kept by reference, not copied: `insert` must be given memory nobody will
 * overwrite (the connection passes views of decrypted packet payloads, which are the AEAD's
 * own output). A read that falls within one segment returns a view of it; only reads that
 * span segments copy.
 */
export class StreamRecvBuffer {
  /** Stored segments, sorted by offset, disjoint; entries before `head` are consumed. */
  private offs: number[] = [];
  private datas: Uint8Array[] = [];
  private head = 0;
  /** Offset of the next byte the application reads. */
  private readPos = 0;
  /** Offsets at or above readPos that have arrived. */
  private readonly received = new RangeSet();
  /** Highest end offset seen (RFC 9000's "largest offset received"). */
  private highest = 0;
  private final = -1;

  /** `_initialCapacity` is accepted for compatibility; segments are stored by reference. */
  constructor(_initialCapacity?: number) {}

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
    // Store only the gaps: the first copy of every byte wins.
    const rs = this.received;
    let i = rs.firstIndexEndingAfter(start);
    if (i === rs.rangeCount || rs.start(i) >= end) {
      this.store(start, src);
    } else {
      let cur = start;
      while (cur < end) {
        const nextStart = i < rs.rangeCount ? rs.start(i) : end;
        if (nextStart > cur) {
          const gapEnd = Math.min(nextStart, end);
          this.store(cur, src.subarray(cur - start, gapEnd - start));
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

  /**
   * Reads up to `max` in-order bytes (empty when nothing is readable): everything readable
   * when `max` allows. Within one stored segment the result is a view of it; across segments,
   * a new array.
   */
  read(max = Infinity): Uint8Array {
    const n = Math.min(this.readable, max);
    if (n <= 0) return EMPTY;
    const first = this.datas[this.head]!;
    const skip = this.readPos - this.offs[this.head]!;
    if (first.length - skip >= n) {
      const view = first.subarray(skip, skip + n);
      this.consume(n);
      return view;
    }
    const out = new Uint8Array(n);
    this.readInto(out, 0, n);
    return out;
  }

  /**
   * Reads up to `max` in-order bytes without ever copying: a view of the next stored segment,
   * so possibly shorter than what is readable (call again for the rest).
   */
  readSegment(max = Infinity): Uint8Array {
    const n = Math.min(this.readable, max);
    if (n <= 0) return EMPTY;
    const first = this.datas[this.head]!;
    const skip = this.readPos - this.offs[this.head]!;
    const take = Math.min(n, first.length - skip);
    const view = first.subarray(skip, skip + take);
    this.consume(take);
    return view;
  }

  /** Reads up to `n` in-order bytes into `dst` at `dstOffset`; returns the count. */
  readInto(dst: Uint8Array, dstOffset: number, n: number): number {
    n = Math.min(n, this.readable, dst.length - dstOffset);
    if (n <= 0) return 0;
    let left = n;
    let i = this.head;
    let pos = this.readPos;
    let o = dstOffset;
    while (left > 0) {
      const d = this.datas[i]!;
      const from = pos - this.offs[i]!;
      const take = Math.min(left, d.length - from);
      dst.set(take === d.length ? d : d.subarray(from, from + take), o);
      o += take;
      pos += take;
      left -= take;
      i++;
    }
    this.consume(n);
    return n;
  }

  /** Discards up to `n` readable bytes without copying them. */
  skip(n: number): number {
    n = Math.min(n, this.readable);
    if (n > 0) this.consume(n);
    return n;
  }

  private consume(n: number): void {
    this.readPos += n;
    this.received.removeBelow(this.readPos);
    const offs = this.offs;
    const datas = this.datas;
    while (this.head < offs.length && offs[this.head]! + datas[this.head]!.length <= this.readPos) {
      datas[this.head] = EMPTY;
      this.head++;
    }
    if (this.head === offs.length) {
      offs.length = 0;
      datas.length = 0;
      this.head = 0;
    } else if (this.head > 32 && this.head * 2 > offs.length) {
      this.offs = offs.slice(this.head);
      this.datas = datas.slice(this.head);
      this.head = 0;
    }
  }

  /** Inserts a segment that overlaps nothing stored, keeping the order by offset. */
  private store(offset: number, data: Uint8Array): void {
    const offs = this.offs;
    const datas = this.datas;
    const n = offs.length;
    if (n === this.head || offs[n - 1]! < offset) {
      offs.push(offset);
      datas.push(data);
      return;
    }
    let lo = this.head;
    let hi = n;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (offs[mid]! < offset) lo = mid + 1;
      else hi = mid;
    }
    offs.splice(lo, 0, offset);
    datas.splice(lo, 0, data);
  }
}
