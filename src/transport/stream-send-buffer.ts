import { RangeSet } from './range-set.js';

/**
 * The send side of one stream's (or one CRYPTO level's) byte sequence. The application's
 * chunks are kept by reference (not copied) until every byte of them is acknowledged; the
 * packet builder copies bytes straight from them into the datagram. Lost ranges are resent
 * before new data; new data is bounded by the caller's flow-control limit; the FIN travels
 * with the last byte or alone, and is resent if lost.
 *
 * The builder's protocol, allocation-free:
 *   const off = buf.peek(limit);                   // -1: nothing to send
 *   const len = buf.take(off, room, limit);         // commits [off, off+len) as sent; buf.takenFin tells the FIN
 *   buf.copyOut(off, len, dst, dstOffset);
 * and later onAcked/onLost with the same (offset, length, fin).
 */
export class StreamSendBuffer {
  private chunks: Array<Uint8Array | undefined> = [];
  private chunkStarts: number[] = [];
  private head = 0;
  private writeEnd = 0;
  private finQueued = false;
  /** Highest offset ever sent (the new-data frontier). */
  private sentEnd = 0;
  private finSent = false;
  private finPending = false; // FIN lost and not yet resent
  private finAckedFlag = false;
  private readonly lost = new RangeSet();
  private readonly acked = new RangeSet();
  private ackedPrefix = 0;
  /** An empty STREAM frame at offset 0 is owed (the stream is announced before any data). */
  private announcePending = false;
  /** Set by `take`: whether the segment just taken carries the FIN. */
  takenFin = false;
  /** Set by `take`: the segment just taken is an empty announcement (zero length, no FIN). */
  takenAnnounce = false;

  /** Total bytes queued so far (the stream's current length). */
  get length(): number {
    return this.writeEnd;
  }

  /** Bytes queued but never sent. */
  get unsentBytes(): number {
    return this.writeEnd - this.sentEnd;
  }

  /** The highest offset sent so far. */
  get sentOffset(): number {
    return this.sentEnd;
  }

  /** Bytes acknowledged contiguously from the start of the stream. */
  get ackedOffset(): number {
    return this.ackedPrefix;
  }

  /** Bytes queued and not yet acknowledged. */
  get unackedBytes(): number {
    return this.writeEnd - this.ackedPrefix - this.acked.count;
  }

  /** True once the FIN was queued. */
  get isFinQueued(): boolean {
    return this.finQueued;
  }

  /** True when all data and the FIN are acknowledged. */
  get isAllAcked(): boolean {
    return this.finAckedFlag && this.ackedPrefix >= this.writeEnd;
  }

  /** Queues `data` (kept by reference; do not modify it afterwards) and optionally the FIN. */
  write(data: Uint8Array, fin = false): void {
    if (this.finQueued) throw new TypeError('write after FIN on this stream');
    if (data.length > 0) {
      this.chunks.push(data);
      this.chunkStarts.push(this.writeEnd);
      this.writeEnd += data.length;
    }
    if (fin) this.finQueued = true;
  }

  /**
   * Owes a zero-length STREAM frame at offset 0, so the peer learns of the stream before any
   * data (MsQuic's IMMEDIATE start flag). No effect once anything was sent; resent if lost.
   */
  announce(): void {
    if (this.sentEnd === 0 && !this.finSent) this.announcePending = true;
  }

  /** True when something is ready to go out under `limit` (the flow-control end offset for new data). */
  hasSendable(limit: number): boolean {
    return this.peek(limit) >= 0;
  }

  /** Offset of the next segment to send, or -1 when there is none. */
  peek(limit: number): number {
    if (!this.lost.isEmpty) return this.lost.start(0);
    if (this.sentEnd < this.writeEnd && this.sentEnd < limit) return this.sentEnd;
    if (this.finQueued && (!this.finSent || this.finPending) && this.sentEnd === this.writeEnd) return this.writeEnd;
    if (this.announcePending) return 0;
    return -1;
  }

  /**
   * Commits up to `maxLength` bytes from `offset` (which `peek` returned) as sent and returns
   * the length; `takenFin` says whether the FIN goes with it. A zero length with
   * `takenFin` is a FIN-only segment.
   */
  take(offset: number, maxLength: number, limit: number): number {
    let len: number;
    if (!this.lost.isEmpty && this.lost.start(0) === offset) {
      len = Math.min(maxLength, this.lost.end(0) - offset);
      this.lost.remove(offset, offset + len);
    } else {
      len = Math.max(0, Math.min(maxLength, this.writeEnd - offset, limit - offset));
      if (offset + len > this.sentEnd) this.sentEnd = offset + len;
    }
    const end = offset + len;
    this.takenFin = this.finQueued && end === this.writeEnd && (!this.finSent || this.finPending) && this.sentEnd === this.writeEnd;
    if (this.takenFin) {
      this.finSent = true;
      this.finPending = false;
    }
    this.takenAnnounce = this.announcePending && len === 0 && !this.takenFin;
    if (this.announcePending && (len > 0 || this.takenFin || this.takenAnnounce)) this.announcePending = false;
    return len;
  }

  /** Copies bytes [offset, offset+length) into `dst` at `dstOffset`. */
  copyOut(offset: number, length: number, dst: Uint8Array, dstOffset: number): void {
    let i = this.chunkIndex(offset);
    let o = offset;
    const end = offset + length;
    while (o < end) {
      const chunk = this.chunks[i]!;
      const cs = this.chunkStarts[i]!;
      const from = o - cs;
      const n = Math.min(chunk.length - from, end - o);
      dst.set(n === chunk.length ? chunk : chunk.subarray(from, from + n), dstOffset);
      dstOffset += n;
      o += n;
      i++;
    }
  }

  /** A segment sent earlier was acknowledged. */
  onAcked(offset: number, length: number, fin: boolean): void {
    if (length > 0) {
      this.acked.add(offset, offset + length);
      this.lost.remove(offset, offset + length);
      const newPrefix = this.acked.contiguousEnd(this.ackedPrefix);
      if (newPrefix > this.ackedPrefix) {
        this.ackedPrefix = newPrefix;
        this.acked.removeBelow(newPrefix);
        this.release();
      }
    }
    if (fin) {
      this.finAckedFlag = true;
      this.finPending = false;
    }
  }

  /** A segment sent earlier was declared lost: its unacknowledged bytes are queued for resending. */
  onLost(offset: number, length: number, fin: boolean): void {
    let s = Math.max(offset, this.ackedPrefix);
    const end = offset + length;
    while (s < end) {
      // Skip acknowledged parts.
      const ackEnd = this.acked.contiguousEnd(s);
      if (ackEnd > s) {
        s = ackEnd;
        continue;
      }
      const i = this.acked.firstIndexEndingAfter(s);
      const gapEnd = i < this.acked.rangeCount ? Math.min(end, this.acked.start(i)) : end;
      this.lost.add(s, gapEnd);
      s = gapEnd;
    }
    if (fin && !this.finAckedFlag) this.finPending = true;
    // A lost announcement is owed again while the stream has still sent nothing.
    if (length === 0 && !fin && offset === 0 && this.sentEnd === 0 && !this.finSent) this.announcePending = true;
  }

  /** Drops all buffered data (the stream was reset); nothing more will be sent. */
  discard(): void {
    this.chunks = [];
    this.chunkStarts = [];
    this.head = 0;
    this.lost.clear();
    this.acked.clear();
    this.finQueued = true;
    this.finSent = true;
    this.finPending = false;
    this.sentEnd = this.writeEnd;
  }

  private chunkIndex(offset: number): number {
    const starts = this.chunkStarts;
    let lo = this.head;
    let hi = starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (starts[mid]! <= offset) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  }

  /** Releases chunks wholly below the acknowledged prefix. */
  private release(): void {
    const chunks = this.chunks;
    while (this.head < chunks.length && this.chunkStarts[this.head]! + chunks[this.head]!.length <= this.ackedPrefix) {
      chunks[this.head] = undefined;
      this.head++;
    }
    if (this.head > 64 && this.head * 2 > chunks.length) {
      this.chunks = chunks.slice(this.head);
      this.chunkStarts = this.chunkStarts.slice(this.head);
      this.head = 0;
    }
  }
}
