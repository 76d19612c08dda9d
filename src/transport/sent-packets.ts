/**
 * Packets sent in one packet number space and not yet forgotten, in packet number order
 * (RFC 9002 §A.1.1). Acknowledged records are only flagged and leave from the front, so
 * the array stays sorted and a binary search finds any packet number; records are pooled,
 * so a connection sending 100k packets/s recycles the same objects instead of allocating
 * one per packet.
 */

/** Packet number spaces (RFC 9000 §12.3). 0-RTT and 1-RTT share the application space. */
export const PacketSpace = {
  Initial: 0,
  Handshake: 1,
  Application: 2,
} as const;
export type PacketSpace = (typeof PacketSpace)[keyof typeof PacketSpace];

/** Lifecycle of a sent packet record. */
export const SentState = {
  Outstanding: 0,
  Acked: 1,
  Lost: 2,
} as const;
export type SentState = (typeof SentState)[keyof typeof SentState];

/** One sent packet, as loss recovery and retransmission need it. */
export class SentPacket {
  pn = 0;
  timeSent = 0;
  /** Bytes on the wire (this packet's share of the UDP payload). */
  size = 0;
  ackEliciting = false;
  inFlight = false;
  state: SentState = SentState.Outstanding;
  /** When it was declared lost (to forget it after a while). */
  lostTime = 0;
  /** Sent as a 0-RTT packet. */
  zeroRtt = false;
  /** A path MTU probe: its loss says nothing about congestion (RFC 9000 §14.4). */
  mtuProbe = false;
  /**
   * What the packet carried that matters once it is acknowledged or lost, as flat records
   * the connection writes and reads (kind, then the kind's fields). Reused with the record.
   */
  readonly frames: number[] = [];
  /** Largest acknowledged of the ACK frame this packet carried, or -1. */
  ackLargest = -1;
  /** Sequence number of the congestion event that declared this packet lost. */
  lossEvent = 0;
}

export class SentPacketQueue {
  private items: SentPacket[] = [];
  private head = 0;
  private readonly pool: SentPacket[] = [];
  /** Ack-eliciting packets outstanding (neither acked nor lost). */
  ackElicitingOutstanding = 0;
  /** Bytes of outstanding in-flight packets. */
  bytesInFlight = 0;
  /** Send time of the newest ack-eliciting packet (RFC 9002 time_of_last_ack_eliciting_packet). */
  lastAckElicitingTime = 0;

  /** A cleared record, from the pool when possible. */
  acquire(): SentPacket {
    const p = this.pool.pop() ?? new SentPacket();
    p.frames.length = 0;
    p.ackLargest = -1;
    p.state = SentState.Outstanding;
    p.zeroRtt = false;
    p.mtuProbe = false;
    p.lossEvent = 0;
    p.lostTime = 0;
    return p;
  }

  /** Appends a sent packet (packet numbers must increase). */
  push(p: SentPacket): void {
    this.items.push(p);
    if (p.ackEliciting) {
      this.ackElicitingOutstanding++;
      this.lastAckElicitingTime = p.timeSent;
    }
    if (p.inFlight) this.bytesInFlight += p.size;
  }

  /** Index range of held records: [start, end). */
  get start(): number {
    return this.head;
  }
  get end(): number {
    return this.items.length;
  }
  at(i: number): SentPacket {
    return this.items[i]!;
  }
  get isEmpty(): boolean {
    return this.head === this.items.length;
  }

  /** Index of the first held record with pn >= `pn`, or `end`. */
  lowerBound(pn: number): number {
    const items = this.items;
    let lo = this.head;
    let hi = items.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (items[mid]!.pn < pn) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** Marks an outstanding packet acknowledged, leaving the in-flight accounting. */
  markAcked(p: SentPacket): void {
    this.leaveFlight(p);
    p.state = SentState.Acked;
  }

  /** Marks an outstanding packet lost at `now`, leaving the in-flight accounting. */
  markLost(p: SentPacket, now: number): void {
    this.leaveFlight(p);
    p.state = SentState.Lost;
    p.lostTime = now;
  }

  /**
   * Recycles records at the front that are acknowledged, or were declared lost before
   * `forgetLostBefore`.
   */
  pruneFront(forgetLostBefore: number): void {
    const items = this.items;
    while (this.head < items.length) {
      const p = items[this.head]!;
      if (p.state === SentState.Outstanding || (p.state === SentState.Lost && p.lostTime >= forgetLostBefore)) break;
      this.pool.push(p);
      this.head++;
    }
    if (this.head > 1024 && this.head * 2 > items.length) {
      this.items = items.slice(this.head);
      this.head = 0;
    } else if (this.head === items.length && this.head > 0) {
      items.length = 0;
      this.head = 0;
    }
  }

  /** Drops everything (keys discarded); returns the in-flight bytes that were outstanding. */
  clear(): number {
    const bytes = this.bytesInFlight;
    for (let i = this.head; i < this.items.length; i++) this.pool.push(this.items[i]!);
    this.items = [];
    this.head = 0;
    this.ackElicitingOutstanding = 0;
    this.bytesInFlight = 0;
    return bytes;
  }

  /**
   * Takes every outstanding packet out of the in-flight and ack-eliciting accounting (they stay
   * outstanding: their acknowledgement or loss still settles their frames) and returns the bytes
   * that were in flight. For a path change: what was sent on the old path must not count for
   * the new path's congestion control, RTT estimate or PTO (RFC 9000 §9.4).
   */
  releaseFlight(): number {
    const bytes = this.bytesInFlight;
    for (let i = this.head; i < this.items.length; i++) {
      const p = this.items[i]!;
      if (p.state !== SentState.Outstanding) continue;
      p.inFlight = false;
      p.ackEliciting = false;
      p.mtuProbe = false;
    }
    this.bytesInFlight = 0;
    this.ackElicitingOutstanding = 0;
    return bytes;
  }

  private leaveFlight(p: SentPacket): void {
    if (p.state !== SentState.Outstanding) return;
    if (p.ackEliciting) this.ackElicitingOutstanding--;
    if (p.inFlight) this.bytesInFlight -= p.size;
  }
}
