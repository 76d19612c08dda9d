import { RangeSet } from './range-set.js';

/**
 * The receive side of one packet number space: which packet numbers arrived (for ACK
 * frames and duplicate suppression), and when an ACK is owed (RFC 9000 §13.2).
 *
 * - Initial and Handshake packets are acknowledged at once.
 * - 1-RTT: every second ack-eliciting packet, or after max_ack_delay at the latest; at once
 *   when a packet arrives out of order (a gap below it, or it fills one).
 * - Memory is bounded: at most `maxRanges` ranges are kept; packets below the oldest kept
 *   range count as duplicates (RFC 9000 §12.3 lets a receiver discard what it cannot tell
 *   apart from a duplicate), and ranges the peer has seen acknowledged are pruned.
 */
export class AckTracker {
  readonly received = new RangeSet();
  /** Largest packet number received, or -1. */
  largest = -1;
  /** When the largest packet number was received. */
  largestTime = 0;
  /** Time an ACK becomes due, or Infinity when none is owed. */
  ackDeadline = Infinity;
  /** An ACK frame would carry new information (something arrived since the last one). */
  ackPending = false;
  private elicitingSinceAck = 0;
  private floor = 0;

  constructor(
    /** True for Initial/Handshake spaces: acknowledge immediately. */
    private readonly immediate: boolean,
    private readonly maxRanges = 64,
    /** Ack-eliciting packets to receive before an ACK is sent at once (2 per RFC 9000). */
    public ackElicitingThreshold = 2,
  ) {}

  /** True when `pn` must be discarded as a duplicate (or as too old to tell). */
  isDuplicate(pn: number): boolean {
    return pn < this.floor || this.received.has(pn);
  }

  /**
   * Records a packet that was successfully unprotected and processed. `maxAckDelay` is our
   * own max_ack_delay (ms) for the 1-RTT space.
   */
  onPacketReceived(pn: number, ackEliciting: boolean, now: number, maxAckDelay: number): void {
    const outOfOrder = this.largest >= 0 && (pn < this.largest || pn > this.largest + 1);
    this.received.addOne(pn);
    if (pn > this.largest) {
      this.largest = pn;
      this.largestTime = now;
    }
    if (this.received.rangeCount > this.maxRanges) {
      this.received.limitRanges(this.maxRanges);
      this.floor = this.received.min;
    }
    this.ackPending = true;
    if (!ackEliciting) return;
    this.elicitingSinceAck++;
    if (this.immediate || outOfOrder || this.elicitingSinceAck >= this.ackElicitingThreshold) {
      this.ackDeadline = now;
    } else if (this.ackDeadline === Infinity) {
      this.ackDeadline = now + maxAckDelay;
    }
  }

  /** An ACK frame reporting the current state was sent. */
  onAckSent(): void {
    this.ackPending = false;
    this.elicitingSinceAck = 0;
    this.ackDeadline = Infinity;
  }

  /**
   * A packet that carried our ACK frame with largest acknowledged `largestAcked` was itself
   * acknowledged: the peer knows everything up to there, so stop reporting older ranges.
   */
  onAckAcknowledged(largestAcked: number): void {
    // Keep the range containing largestAcked so the next ACK still starts there.
    const keepFrom = Math.min(largestAcked, this.received.max);
    const i = this.received.firstIndexEndingAfter(keepFrom);
    if (i < this.received.rangeCount) {
      const from = Math.min(this.received.start(i), keepFrom);
      if (from > this.floor) {
        this.received.removeBelow(from);
        this.floor = from;
      }
    }
  }

  /** ACK delay to report at `now`, in ms. */
  ackDelay(now: number): number {
    return now > this.largestTime ? now - this.largestTime : 0;
  }
}
