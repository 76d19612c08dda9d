import type { CongestionController } from '../congestion/controller.js';
import { QuicError, TransportError } from './errors.js';
import { RttEstimator } from './rtt.js';
import { PacketSpace, SentPacket, SentPacketQueue, SentState } from './sent-packets.js';

/** What loss recovery asks of the connection. */
export interface RecoveryHost {
  /** A packet (outstanding, or declared lost earlier) was acknowledged: its frames arrived. */
  onPacketAcked(space: PacketSpace, p: SentPacket): void;
  /** A packet was declared lost: re-queue what it carried that must be retransmitted. */
  onPacketLost(space: PacketSpace, p: SentPacket): void;
  /** RFC 9002 PeerCompletedAddressValidation(): a server always; a client once the handshake is confirmed or a Handshake ACK arrived. */
  peerCompletedAddressValidation(): boolean;
  /** A server that may not send more until it receives more (anti-amplification limit). */
  atAmplificationLimit(): boolean;
  /** Handshake keys are available (for the client's anti-deadlock probe). */
  hasHandshakeKeys(): boolean;
  /** The sender was not using its window lately (RFC 9002 §7.8). */
  isAppLimited(): boolean;
}

const PACKET_THRESHOLD = 3;
const MAX_PACKET_THRESHOLD = 64;
const TIME_THRESHOLD = 9 / 8;
/** Largest time threshold the adaptive widening reaches (in RTTs). */
const MAX_TIME_THRESHOLD = 2;
const PERSISTENT_CONGESTION_THRESHOLD = 3;

/**
 * Loss detection and probe timeouts (RFC 9002 §6, Appendix A) over the three packet number
 * spaces, feeding the congestion controller. Sans-IO: every entry point takes `now` (ms) and
 * the caller arms a timer at `deadline`.
 */
export class Recovery {
  readonly sent: readonly [SentPacketQueue, SentPacketQueue, SentPacketQueue] = [
    new SentPacketQueue(),
    new SentPacketQueue(),
    new SentPacketQueue(),
  ];
  readonly largestAcked = [-1, -1, -1];
  /** Largest packet number sent per space (an ACK beyond it is a protocol violation). */
  readonly largestSent = [-1, -1, -1];
  private readonly lossTime = [Infinity, Infinity, Infinity];
  /** Probe packets the connection owes per space after a PTO. */
  readonly probes = [0, 0, 0];
  ptoCount = 0;
  /** Consecutive PTOs without an ACK (for diagnostics). */
  handshakeConfirmed = false;
  /** The peer's max_ack_delay (ms). */
  peerMaxAckDelay = 25;
  /** When the loss detection timer fires (Infinity: disarmed). */
  deadline = Infinity;
  /** Packet reordering threshold; grows when a loss proves spurious. */
  packetThreshold = PACKET_THRESHOLD;
  /** Time reordering threshold as a multiple of the RTT; grows when a loss proves spurious. */
  timeThreshold = TIME_THRESHOLD;
  private firstRttSampleTime = -1;
  private lossEventSeq = 0;
  private lossEventRemaining = 0;
  private readonly discarded = [false, false, false];
  /** Counters for statistics. */
  packetsLost = 0;
  spuriousLosses = 0;

  constructor(
    readonly rtt: RttEstimator,
    /** The congestion controller of the current path (replaced on a path change). */
    public cc: CongestionController,
    private readonly host: RecoveryHost,
  ) {}

  /**
   * The connection moved to another path (RFC 9000 §9.4): packets sent on the old one leave
   * the in-flight accounting of its controller without a congestion signal (they stay tracked,
   * so their frames are still settled when they are acknowledged or lost), `cc` takes over, and
   * persistent congestion waits for an RTT sample on the new path.
   */
  onPathChange(cc: CongestionController, now: number): void {
    let bytes = 0;
    for (const q of this.sent) bytes += q.releaseFlight();
    if (bytes > 0) this.cc.onPacketsDiscarded(bytes);
    this.cc = cc;
    this.firstRttSampleTime = -1;
    this.lossEventRemaining = 0; // a loss on the old path is not undone on the new controller
    this.setTimer(now);
  }

  /** Bytes in flight across all spaces. */
  get bytesInFlight(): number {
    return this.sent[0].bytesInFlight + this.sent[1].bytesInFlight + this.sent[2].bytesInFlight;
  }

  /**
   * When the peer last showed progress: an ACK newly acknowledging something, or the first
   * ack-eliciting packet sent while nothing was outstanding (for the disconnect timeout).
   */
  progressTime = 0;

  /** Ack-eliciting packets are outstanding in some space. */
  get hasAckElicitingInFlight(): boolean {
    return this.ackElicitingOutstanding() > 0;
  }

  /** Records a sent packet (take the record from `sent[space].acquire()`). */
  onPacketSent(space: PacketSpace, p: SentPacket, now: number): void {
    if (p.ackEliciting && this.ackElicitingOutstanding() === 0) this.progressTime = now;
    this.sent[space].push(p);
    if (p.pn > this.largestSent[space]!) this.largestSent[space] = p.pn;
    if (p.inFlight) {
      this.cc.onPacketSent(now, p.size, true);
      this.setTimer(now);
    }
  }

  /**
   * Processes an ACK frame. `ranges` holds [largest, smallest] pairs in descending order
   * (`pairCount` of them); `ackDelay` is already scaled to ms. Throws PROTOCOL_VIOLATION for
   * an acknowledgment of a packet never sent.
   */
  onAckReceived(space: PacketSpace, ranges: ArrayLike<number>, pairCount: number, ackDelay: number, now: number, frameType = 0x02): void {
    const q = this.sent[space];
    const largest = ranges[0]!;
    if (largest > this.largestSent[space]!) {
      throw new QuicError(TransportError.PROTOCOL_VIOLATION, `ACK of packet ${largest} which was never sent`, frameType);
    }
    if (largest > this.largestAcked[space]!) this.largestAcked[space] = largest;

    let ackedBytes = 0;
    let largestNewly: SentPacket | undefined;
    let elicitingNewly = false;
    let largestAckedSentTime = -Infinity;
    for (let r = 0; r < pairCount; r++) {
      const hi = ranges[2 * r]!;
      const lo = ranges[2 * r + 1]!;
      // Walk the held packets inside [lo, hi] from the top down.
      let i = q.lowerBound(hi + 1) - 1;
      for (; i >= q.start; i--) {
        const p = q.at(i);
        if (p.pn < lo) break;
        if (p.state === SentState.Acked) continue;
        if (p.state === SentState.Lost) {
          this.onSpuriousLoss(space, p, largest, now);
          p.state = SentState.Acked;
          this.host.onPacketAcked(space, p);
          continue;
        }
        q.markAcked(p);
        if (largestNewly === undefined) largestNewly = p;
        if (p.ackEliciting) elicitingNewly = true;
        if (p.inFlight) {
          ackedBytes += p.size;
          if (p.timeSent > largestAckedSentTime) largestAckedSentTime = p.timeSent;
        }
        this.host.onPacketAcked(space, p);
      }
    }
    if (largestNewly === undefined) {
      q.pruneFront(now - 3 * this.ptoDuration());
      return;
    }
    this.progressTime = now;
    if (largestNewly.pn === largest && elicitingNewly) {
      const sample = now - largestNewly.timeSent;
      this.rtt.update(sample, space === PacketSpace.Application ? ackDelay : 0, this.handshakeConfirmed, this.peerMaxAckDelay);
      if (this.firstRttSampleTime < 0) this.firstRttSampleTime = now;
    }
    this.detectLost(space, now);
    if (ackedBytes > 0) this.cc.onAck(now, ackedBytes, largestAckedSentTime, this.rtt, this.host.isAppLimited());
    if (this.host.peerCompletedAddressValidation()) this.ptoCount = 0;
    q.pruneFront(now - 3 * this.ptoDuration());
    this.setTimer(now);
  }

  /** The timer at `deadline` fired. */
  onTimeout(now: number): void {
    let lossSpace = -1;
    let earliest = Infinity;
    for (let s = 0; s < 3; s++) {
      if (this.lossTime[s]! < earliest) {
        earliest = this.lossTime[s]!;
        lossSpace = s;
      }
    }
    if (lossSpace >= 0) {
      this.detectLost(lossSpace as PacketSpace, now);
      this.setTimer(now);
      return;
    }
    if (this.ackElicitingOutstanding() === 0) {
      // Client anti-deadlock (RFC 9002 §6.2.2.1): probe so the server can send more.
      this.probes[this.host.hasHandshakeKeys() ? PacketSpace.Handshake : PacketSpace.Initial]! += 1;
    } else {
      const space = this.ptoSpace(now).space;
      if (space >= 0) this.probes[space]! += 2;
    }
    this.ptoCount++;
    this.setTimer(now);
  }

  /** Keys of `space` are discarded: forget its packets (RFC 9002 §6.4). */
  discardSpace(space: PacketSpace, now: number): void {
    if (this.discarded[space]) return;
    this.discarded[space] = true;
    const bytes = this.sent[space].clear();
    if (bytes > 0) this.cc.onPacketsDiscarded(bytes);
    this.lossTime[space] = Infinity;
    this.probes[space] = 0;
    this.ptoCount = 0;
    this.setTimer(now);
  }

  /** The handshake is confirmed: application-space PTOs start counting (RFC 9002 §6.2.1). */
  onHandshakeConfirmed(now: number): void {
    this.handshakeConfirmed = true;
    this.setTimer(now);
  }

  /** Re-arms the timer (e.g. after the amplification limit lifted). */
  setTimer(now: number): void {
    let earliest = Infinity;
    for (let s = 0; s < 3; s++) if (this.lossTime[s]! < earliest) earliest = this.lossTime[s]!;
    if (earliest !== Infinity) {
      this.deadline = earliest;
      return;
    }
    if (this.host.atAmplificationLimit()) {
      this.deadline = Infinity;
      return;
    }
    if (this.ackElicitingOutstanding() === 0 && this.host.peerCompletedAddressValidation()) {
      this.deadline = Infinity;
      return;
    }
    this.deadline = this.ptoSpace(now).time;
  }

  /** The current PTO period in ms (for idle-timeout and closing-state computations). */
  ptoDuration(): number {
    return this.rtt.ptoBase() + (this.handshakeConfirmed ? this.peerMaxAckDelay : 0);
  }

  private ackElicitingOutstanding(): number {
    return this.sent[0].ackElicitingOutstanding + this.sent[1].ackElicitingOutstanding + this.sent[2].ackElicitingOutstanding;
  }

  private readonly ptoResult = { time: Infinity, space: -1 };

  private ptoSpace(now: number): { time: number; space: number } {
    const backoff = 2 ** this.ptoCount;
    let duration = this.rtt.ptoBase() * backoff;
    const res = this.ptoResult;
    res.time = Infinity;
    res.space = -1;
    if (this.ackElicitingOutstanding() === 0) {
      res.time = now + duration;
      res.space = this.host.hasHandshakeKeys() ? PacketSpace.Handshake : PacketSpace.Initial;
      return res;
    }
    for (let s = 0; s < 3; s++) {
      const q = this.sent[s]!;
      if (q.ackElicitingOutstanding === 0) continue;
      if (s === PacketSpace.Application) {
        if (!this.handshakeConfirmed) return res;
        duration += this.peerMaxAckDelay * backoff;
      }
      const t = q.lastAckElicitingTime + duration;
      if (t < res.time) {
        res.time = t;
        res.space = s;
      }
    }
    return res;
  }

  private detectLost(space: PacketSpace, now: number): void {
    const q = this.sent[space];
    const largestAcked = this.largestAcked[space]!;
    this.lossTime[space] = Infinity;
    if (largestAcked < 0) return;
    const lossDelay = Math.max(this.timeThreshold * Math.max(this.rtt.latestRtt, this.rtt.smoothedRtt), RttEstimator.GRANULARITY);
    let lostBytes = 0;
    let lostCount = 0;
    let largestLostSentTime = -Infinity;
    let firstLostEliciting = Infinity;
    let lastLostEliciting = -Infinity;
    let ackedBetween = false;
    // Records below settledBelow are acknowledged or lost already: start after them (they can stay
    // held for 3 PTO behind a lost one, and rescanning them on every ACK made loss detection
    // quadratic in the window after a loss).
    let i = q.lowerBound(this.settledBelow[space]!);
    for (; i < q.end; i++) {
      const p = q.at(i);
      if (p.pn > largestAcked) break;
      if (p.state === SentState.Acked) {
        if (firstLostEliciting !== Infinity) ackedBetween = true;
        continue;
      }
      if (p.state === SentState.Lost) continue;
      // Same expression as the loss time below, so a timer set for it always fires it (no float drift).
      if (p.timeSent + lossDelay <= now || largestAcked >= p.pn + this.packetThreshold) {
        q.markLost(p, now);
        this.lostScratch.push(p);
        lostCount++;
        if (p.mtuProbe) {
          // A lost PMTU probe leaves flight without a congestion response.
          this.cc.onPacketsDiscarded(p.size);
        } else if (p.inFlight) {
          lostBytes += p.size;
          if (p.timeSent > largestLostSentTime) largestLostSentTime = p.timeSent;
        }
        if (p.ackEliciting && !ackedBetween) {
          if (p.timeSent < firstLostEliciting) firstLostEliciting = p.timeSent;
          lastLostEliciting = p.timeSent;
        }
      } else {
        this.lossTime[space] = p.timeSent + lossDelay;
        break;
      }
    }
    this.settledBelow[space] = i < q.end ? q.at(i).pn : this.largestSent[space]! + 1;
    if (lostCount === 0) return;
    this.packetsLost += lostCount;
    const lost = this.lostScratch;
    if (lostBytes === 0) {
      for (let i = 0; i < lost.length; i++) this.host.onPacketLost(space, lost[i]!);
      lost.length = 0;
      return;
    }
    const pcDuration = (this.rtt.smoothedRtt + Math.max(4 * this.rtt.rttVar, RttEstimator.GRANULARITY) + this.peerMaxAckDelay) * PERSISTENT_CONGESTION_THRESHOLD;
    const persistent =
      this.firstRttSampleTime >= 0 &&
      firstLostEliciting !== Infinity &&
      firstLostEliciting > this.firstRttSampleTime &&
      lastLostEliciting - firstLostEliciting >= pcDuration;
    const newEvent = !this.cc.inRecovery(largestLostSentTime);
    this.cc.onPacketsLost(now, lostBytes, largestLostSentTime, persistent);
    if (persistent) {
      this.rtt.resetMinRtt();
      this.lossEventRemaining = 0; // no undo across persistent congestion
    } else if (newEvent) {
      this.lossEventSeq++;
      this.lossEventRemaining = lostCount;
    } else {
      this.lossEventRemaining += lostCount; // same recovery period: same event
    }
    const event = persistent ? 0 : this.lossEventSeq;
    for (let i = 0; i < lost.length; i++) {
      const p = lost[i]!;
      p.lossEvent = event;
      this.host.onPacketLost(space, p);
    }
    lost.length = 0;
  }

  private readonly lostScratch: SentPacket[] = [];
  /** Per space: every held record below this packet number is acknowledged or lost. */
  private readonly settledBelow = [0, 0, 0];

  private onSpuriousLoss(space: PacketSpace, p: SentPacket, largestAcked: number, now: number): void {
    this.spuriousLosses++;
    // Reordering deeper than the thresholds: widen them so the next such reordering is tolerated
    // (RFC 9002 §6.1.1-6.1.2 allow adaptive thresholds). In time, the packet took `now - timeSent`
    // to be acknowledged where the threshold allowed less.
    const depth = largestAcked - p.pn + 1;
    if (depth > this.packetThreshold) this.packetThreshold = Math.min(depth, MAX_PACKET_THRESHOLD);
    const rtt = Math.max(this.rtt.latestRtt, this.rtt.smoothedRtt);
    const took = rtt > 0 ? (now - p.timeSent) / rtt : 0;
    if (took > this.timeThreshold) this.timeThreshold = Math.min(took, MAX_TIME_THRESHOLD);
    if (p.lossEvent !== 0 && p.lossEvent === this.lossEventSeq && this.lossEventRemaining > 0) {
      this.lossEventRemaining--;
      if (this.lossEventRemaining === 0) this.cc.onSpuriousCongestionEvent();
    }
    void space;
  }
}
