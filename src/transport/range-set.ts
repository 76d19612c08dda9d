/**
 * A set of non-negative integers stored as sorted, disjoint, non-adjacent half-open ranges
 * [start, end). One type serves received packet numbers (ACK generation), acknowledged
 * ranges, and stream/CRYPTO reassembly (which byte offsets have arrived).
 *
 * The common cases are O(1): appending at or just after the highest range (in-order
 * packets and data), and querying the highest range. Other insertions are a binary search
 * plus an in-place splice over a small array.
 */
export class RangeSet {
  private starts: number[] = [];
  private ends: number[] = [];

  /** Number of disjoint ranges. */
  get rangeCount(): number {
    return this.starts.length;
  }

  get isEmpty(): boolean {
    return this.starts.length === 0;
  }

  /** Start of range `i` (ascending order). */
  start(i: number): number {
    return this.starts[i]!;
  }

  /** Exclusive end of range `i` (ascending order). */
  end(i: number): number {
    return this.ends[i]!;
  }

  /** Smallest member, or -1 when empty. */
  get min(): number {
    return this.starts.length === 0 ? -1 : this.starts[0]!;
  }

  /** Largest member, or -1 when empty. */
  get max(): number {
    const n = this.ends.length;
    return n === 0 ? -1 : this.ends[n - 1]! - 1;
  }

  /** Total number of members. */
  get count(): number {
    let c = 0;
    for (let i = 0; i < this.starts.length; i++) c += this.ends[i]! - this.starts[i]!;
    return c;
  }

  clear(): void {
    this.starts.length = 0;
    this.ends.length = 0;
  }

  /** True when `v` is a member. */
  has(v: number): boolean {
    const i = this.indexAtOrBefore(v);
    return i >= 0 && v < this.ends[i]!;
  }

  /** True when every member of [start, end) is in the set. */
  covers(start: number, end: number): boolean {
    if (end <= start) return true;
    const i = this.indexAtOrBefore(start);
    return i >= 0 && end <= this.ends[i]!;
  }

  /**
   * End of the contiguous run that contains `v` (exclusive), or `v` itself when `v` is not a
   * member. For reassembly: `contiguousEnd(readOffset)` is how far data is readable.
   */
  contiguousEnd(v: number): number {
    const i = this.indexAtOrBefore(v);
    return i >= 0 && v < this.ends[i]! ? this.ends[i]! : v;
  }

  /** Adds a single value; returns true when it was not already a member. */
  addOne(v: number): boolean {
    return this.add(v, v + 1) > 0;
  }

  /** Adds [start, end); returns how many values were not members before. */
  add(start: number, end: number): number {
    if (end <= start) return 0;
    const starts = this.starts;
    const ends = this.ends;
    const n = starts.length;
    // Fast paths: beyond or touching the last range.
    if (n === 0 || start > ends[n - 1]!) {
      starts.push(start);
      ends.push(end);
      return end - start;
    }
    if (start >= starts[n - 1]!) {
      const lastEnd = ends[n - 1]!;
      if (end <= lastEnd) return 0;
      ends[n - 1] = end;
      return end - lastEnd;
    }
    // General case: find the first range whose end >= start (it may merge), and the last
    // range whose start <= end.
    const lo = this.firstEndingAtOrAfter(start);
    let hi = lo;
    while (hi < n && starts[hi]! <= end) hi++;
    if (hi === lo) {
      starts.splice(lo, 0, start);
      ends.splice(lo, 0, end);
      return end - start;
    }
    const newStart = Math.min(starts[lo]!, start);
    const newEnd = Math.max(ends[hi - 1]!, end);
    const added = newEnd - newStart - this.sumLengths(lo, hi);
    starts[lo] = newStart;
    ends[lo] = newEnd;
    if (hi - lo > 1) {
      starts.splice(lo + 1, hi - lo - 1);
      ends.splice(lo + 1, hi - lo - 1);
    }
    return added;
  }

  /** Removes [start, end) from the set. */
  remove(start: number, end: number): void {
    if (end <= start || this.starts.length === 0) return;
    const starts = this.starts;
    const ends = this.ends;
    let i = this.firstEndingAtOrAfter(start + 1);
    while (i < starts.length && starts[i]! < end) {
      const s = starts[i]!;
      const e = ends[i]!;
      if (s < start && e > end) {
        // Split in two.
        ends[i] = start;
        starts.splice(i + 1, 0, end);
        ends.splice(i + 1, 0, e);
        return;
      }
      if (s < start) {
        ends[i] = start;
        i++;
      } else if (e > end) {
        starts[i] = end;
        return;
      } else {
        starts.splice(i, 1);
        ends.splice(i, 1);
      }
    }
  }

  /** Index of the first range whose end is above `v` (it contains `v` or lies after it), or rangeCount. */
  firstIndexEndingAfter(v: number): number {
    return this.firstEndingAtOrAfter(v + 1);
  }

  /** Removes every member below `v`. */
  removeBelow(v: number): void {
    const starts = this.starts;
    const ends = this.ends;
    let drop = 0;
    while (drop < starts.length && ends[drop]! <= v) drop++;
    if (drop > 0) {
      starts.splice(0, drop);
      ends.splice(0, drop);
    }
    if (starts.length > 0 && starts[0]! < v) starts[0] = v;
  }

  /** Drops the lowest ranges until at most `maxRanges` remain. */
  limitRanges(maxRanges: number): void {
    const extra = this.starts.length - maxRanges;
    if (extra > 0) {
      this.starts.splice(0, extra);
      this.ends.splice(0, extra);
    }
  }

  /** Members as [start, end) pairs, ascending (for tests and debugging). */
  toArray(): Array<[number, number]> {
    return this.starts.map((s, i) => [s, this.ends[i]!]);
  }

  private sumLengths(lo: number, hi: number): number {
    let c = 0;
    for (let i = lo; i < hi; i++) c += this.ends[i]! - this.starts[i]!;
    return c;
  }

  /** Index of the last range with start <= v, or -1. */
  private indexAtOrBefore(v: number): number {
    const starts = this.starts;
    let lo = 0;
    let hi = starts.length - 1;
    // Common case: the last range.
    if (hi >= 0 && starts[hi]! <= v) return hi;
    let ans = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (starts[mid]! <= v) {
        ans = mid;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    return ans;
  }

  /** Index of the first range with end >= v (adjacent ranges merge), or rangeCount. */
  private firstEndingAtOrAfter(v: number): number {
    const ends = this.ends;
    let lo = 0;
    let hi = ends.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (ends[mid]! < v) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}
