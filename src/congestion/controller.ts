/**
 * The congestion-controller interface a QUIC connection drives (RFC 9002 §7), and the
 * bookkeeping every loss-based controller shares: bytes in flight, slow start, the
 * recovery period, the app-limited rule, persistent congestion, datagram-size changes and
 * undo of a spurious reduction. NewReno and CUBIC differ only in how they reduce the window
 * and grow it in congestion avoidance.
 *
 * Sans-IO: every time is a `now` (or a send time) in milliseconds given by the caller.
 */

import { HyStartPlusPlus } from './hystart.js';

/** Names of the available algorithms. */
export type CongestionAlgorithm = 'newreno' | 'cubic';

/**
 * The RTT estimates a controller reads, in milliseconds (RFC 9002 §5). The transport's
 * `RttEstimator` satisfies it as is.
 */
export interface RttView {
  readonly smoothedRtt: number;
  readonly minRtt: number;
  readonly latestRtt: number;
}

/** Tunables shared by the controllers. Omitted fields take the RFC 9002 defaults. */
export interface CongestionSettings {
  /** Maximum datagram size in bytes (RFC 9002 §7.2); default 1200, range 1200–65527. */
  maxDatagramSize?: number;
  /**
   * Initial window in packets. Default: RFC 9002 kInitialWindow,
   * min(10 × size, max(14720, 2 × size)) bytes.
   */
  initialWindowPackets?: number;
  /** Minimum window in packets (kMinimumWindow); default 2. */
  minimumWindowPackets?: number;
  /** Use HyStart++ (RFC 9406) in the initial slow start; default false. */
  hyStart?: boolean;
}

/**
 * What a QUIC connection calls on every send, ACK and loss. The controller tracks bytes in
 * flight itself (RFC 9002 Appendix B): the connection reports every in-flight packet sent,
 * and every byte of it later acknowledged, declared lost or discarded with its keys.
 */
export interface CongestionController {
  /** Which algorithm this is. */
  readonly algorithm: CongestionAlgorithm;
  /** Congestion window in bytes. */
  readonly congestionWindow: number;
  /** Slow start threshold in bytes (Infinity until the first congestion event). */
  readonly slowStartThreshold: number;
  /** Bytes of in-flight packets sent and not yet acknowledged, lost or discarded. */
  readonly bytesInFlight: number;
  /** Current maximum datagram size in bytes. */
  readonly maxDatagramSize: number;
  /** Minimum window in bytes. */
  readonly minimumWindow: number;
  /** Bytes that may still be sent before the window is full: max(0, cwnd − bytes in flight). */
  readonly sendAllowance: number;
  /** True while the window is below the slow start threshold. */
  readonly inSlowStart: boolean;
  /**
   * True from a congestion event until the first ACK of a packet sent after it
   * (RFC 9002 §7.3.2); a connection may send one packet at once on entering recovery.
   */
  readonly isRecovering: boolean;

  /**
   * Whether a packet of `packetBytes` fits: bytes in flight + packetBytes ≤ cwnd (RFC 9002 §7).
   * Probes on PTO expiry may be sent regardless; report them with `onPacketSent` all the same.
   */
  canSend(packetBytes: number): boolean;
  /** Whether a packet sent at `sentTime` belongs to the current recovery period (RFC 9002 B.5). */
  inRecovery(sentTime: number): boolean;

  /**
   * A packet was sent. Only in-flight packets (ack-eliciting or padded, RFC 9002 §2) count;
   * pass `inFlight = false` for ACK-only packets.
   */
  onPacketSent(now: number, bytes: number, inFlight: boolean): void;
  /**
   * One ACK frame newly acknowledged `ackedBytes` of in-flight packets, the largest of which
   * was sent at `largestAckedSentTime` (ACK-only packets count for neither). `appLimited`:
   * the sender was not using the window (too little data, or flow control), so the window
   * must not grow (RFC 9002 §7.8); a sender held back only by the pacer is not app-limited.
   * Calling this once per acknowledged packet is also correct, and exact for packets
   * acknowledged together across the end of a recovery period (aggregated, all the bytes
   * count once the largest was sent after the period began).
   */
  onAck(now: number, ackedBytes: number, largestAckedSentTime: number, rtt: RttView, appLimited: boolean): void;
  /**
   * Packets of `lostBytes` in total were declared lost; the newest was sent at
   * `largestLostSentTime`. `persistentCongestion` collapses the window (RFC 9002 §7.6).
   */
  onPacketsLost(now: number, lostBytes: number, largestLostSentTime: number, persistentCongestion: boolean): void;
  /**
   * A congestion signal other than loss (an increase in ECN-CE counts, RFC 9002 B.7) for a
   * packet sent at `sentTime`. Ignored inside the current recovery period.
   */
  onCongestionEvent(now: number, sentTime: number): void;
  /** In-flight packets whose keys were discarded leave bytes in flight (RFC 9002 §6.4). */
  onPacketsDiscarded(bytes: number): void;
  /**
   * Every packet the last congestion event declared lost was acknowledged after all:
   * restore the state before that reduction. Returns false when there is nothing to undo
   * (no reduction since the last undo, or persistent congestion intervened).
   */
  onSpuriousCongestionEvent(): boolean;
  /** The path's maximum datagram size changed (PMTU discovery, RFC 9002 §7.2). */
  setMaxDatagramSize(bytes: number): void;
}

/** RFC 9000 §14: every QUIC path carries at least 1200-byte datagrams. */
export const MIN_DATAGRAM_SIZE = 1200;
/** Largest UDP payload a QUIC endpoint can advertise (max_udp_payload_size, RFC 9000 §18.2). */
export const MAX_DATAGRAM_SIZE = 65527;

/** Throws a RangeError unless `bytes` is a valid maximum datagram size. */
export function checkDatagramSize(bytes: number, what = 'maxDatagramSize'): void {
  if (!Number.isInteger(bytes) || bytes < MIN_DATAGRAM_SIZE || bytes > MAX_DATAGRAM_SIZE) {
    throw new RangeError(`${what} must be an integer in [${MIN_DATAGRAM_SIZE}, ${MAX_DATAGRAM_SIZE}], got ${bytes}`);
  }
}

function checkPackets(value: number, what: string, min: number): void {
  if (!Number.isInteger(value) || value < min || value > 1_000_000) {
    throw new RangeError(`${what} must be an integer in [${min}, 1000000], got ${value}`);
  }
}

function checkByteCount(bytes: number, what: string): void {
  if (!(bytes >= 0) || bytes === Infinity) {
    throw new RangeError(`${what} must be a finite non-negative byte count, got ${bytes}`);
  }
}

/**
 * The shared skeleton of NewReno and CUBIC: RFC 9002 Appendix B with the window growth in
 * congestion avoidance and the reduction on a congestion event left to the subclass.
 * Windows are kept in bytes, possibly fractional; `congestionWindow` reports whole bytes.
 */
export abstract class LossBasedController implements CongestionController {
  abstract readonly algorithm: CongestionAlgorithm;

  /** Congestion window in bytes (may be fractional while growing). */
  protected cwnd: number;
  /** Slow start threshold in bytes. */
  protected ssthresh = Infinity;
  /** Current maximum datagram size. */
  protected mds: number;
  /** Time the current recovery period started; -Infinity when none did. */
  protected recoveryStartTime = -Infinity;
  /** Time of the last onAck call, NaN before the first. */
  protected lastAckTime = NaN;

  private inFlight = 0;
  private recovering = false;
  private readonly initialPackets: number | undefined;
  private readonly minimumPackets: number;
  private initialWindowBytes: number;
  private minimumWindowBytes: number;
  private readonly hyStart: HyStartPlusPlus | undefined;

  // State saved at the last congestion event, for onSpuriousCongestionEvent.
  private undoValid = false;
  private undoCwnd = 0;
  private undoSsthresh = Infinity;
  private undoRecoveryStart = -Infinity;
  private undoRecovering = false;

  constructor(settings: CongestionSettings = {}) {
    const size = settings.maxDatagramSize ?? MIN_DATAGRAM_SIZE;
    checkDatagramSize(size);
    this.minimumPackets = settings.minimumWindowPackets ?? 2;
    checkPackets(this.minimumPackets, 'minimumWindowPackets', 1);
    this.initialPackets = settings.initialWindowPackets;
    if (this.initialPackets !== undefined) {
      checkPackets(this.initialPackets, 'initialWindowPackets', this.minimumPackets);
    }
    this.mds = size;
    this.initialWindowBytes = this.computeInitialWindow(size);
    this.minimumWindowBytes = this.minimumPackets * size;
    if (this.initialWindowBytes < this.minimumWindowBytes) {
      throw new RangeError(
        `the initial window (${this.initialWindowBytes} bytes) is below minimumWindowPackets × maxDatagramSize (${this.minimumWindowBytes} bytes)`,
      );
    }
    this.cwnd = this.initialWindowBytes;
    this.hyStart = settings.hyStart === true ? new HyStartPlusPlus() : undefined;
  }

  get congestionWindow(): number {
    return Math.floor(this.cwnd);
  }
  get slowStartThreshold(): number {
    return this.ssthresh;
  }
  get bytesInFlight(): number {
    return this.inFlight;
  }
  get maxDatagramSize(): number {
    return this.mds;
  }
  get minimumWindow(): number {
    return this.minimumWindowBytes;
  }
  /** The window the controller starts with, in bytes. */
  get initialWindow(): number {
    return this.initialWindowBytes;
  }
  get sendAllowance(): number {
    const room = Math.floor(this.cwnd) - this.inFlight;
    return room > 0 ? room : 0;
  }
  get inSlowStart(): boolean {
    return this.cwnd < this.ssthresh;
  }
  get isRecovering(): boolean {
    return this.recovering;
  }
  /** True while HyStart++ holds slow start in its conservative phase (RFC 9406 §4.2). */
  get inConservativeSlowStart(): boolean {
    return this.hyStart !== undefined && this.hyStart.inConservativeSlowStart && this.cwnd < this.ssthresh;
  }

  canSend(packetBytes: number): boolean {
    return this.inFlight + packetBytes <= this.cwnd;
  }

  inRecovery(sentTime: number): boolean {
    return sentTime <= this.recoveryStartTime;
  }

  onPacketSent(_now: number, bytes: number, inFlight: boolean): void {
    if (!inFlight) return;
    checkByteCount(bytes, 'sent bytes');
    this.inFlight += bytes;
  }

  onAck(now: number, ackedBytes: number, largestAckedSentTime: number, rtt: RttView, appLimited: boolean): void {
    this.removeFromFlight(ackedBytes, 'acknowledged bytes');
    // RFC 9002 §7.3.2: the recovery period ends when a packet sent after it began is acknowledged.
    if (this.recovering && largestAckedSentTime > this.recoveryStartTime) this.recovering = false;
    if (ackedBytes === 0 || largestAckedSentTime <= this.recoveryStartTime) {
      // Packets sent before the reduction do not grow the window (RFC 9002 B.5).
    } else if (appLimited) {
      // RFC 9002 §7.8: an underused window is not evidence the path can carry more.
      this.onAppLimitedAck(now);
    } else if (this.cwnd < this.ssthresh) {
      this.growInSlowStart(now, ackedBytes, largestAckedSentTime, rtt);
    } else {
      this.growInAvoidance(now, ackedBytes, rtt);
    }
    this.lastAckTime = now;
  }

  onPacketsLost(now: number, lostBytes: number, largestLostSentTime: number, persistentCongestion: boolean): void {
    this.removeFromFlight(lostBytes, 'lost bytes');
    this.onCongestionEvent(now, largestLostSentTime);
    if (persistentCongestion) {
      // RFC 9002 §7.6.2 / B.8: collapse to the minimum window and start slow start afresh.
      this.cwnd = this.minimumWindowBytes;
      this.recoveryStartTime = -Infinity;
      this.recovering = false;
      this.undoValid = false;
      this.onPersistentCongestion(now);
    }
  }

  onCongestionEvent(now: number, sentTime: number): void {
    // RFC 9002 B.6: one reduction per recovery period.
    if (sentTime <= this.recoveryStartTime) return;
    this.undoValid = true;
    this.undoCwnd = this.cwnd;
    this.undoSsthresh = this.ssthresh;
    this.undoRecoveryStart = this.recoveryStartTime;
    this.undoRecovering = this.recovering;
    this.saveForUndo();
    this.recoveryStartTime = now;
    this.recovering = true;
    this.reduceWindow(now);
    if (this.cwnd < this.minimumWindowBytes) this.cwnd = this.minimumWindowBytes;
    this.hyStart?.finish();
  }

  onPacketsDiscarded(bytes: number): void {
    this.removeFromFlight(bytes, 'discarded bytes');
  }

  onSpuriousCongestionEvent(): boolean {
    if (!this.undoValid) return false;
    this.undoValid = false;
    if (this.cwnd < this.undoCwnd) this.cwnd = this.undoCwnd;
    this.ssthresh = this.undoSsthresh;
    this.recoveryStartTime = this.undoRecoveryStart;
    this.recovering = this.undoRecovering;
    this.restoreFromUndo();
    return true;
  }

  setMaxDatagramSize(bytes: number): void {
    checkDatagramSize(bytes);
    const untouched = this.cwnd === this.initialWindowBytes && this.ssthresh === Infinity;
    this.mds = bytes;
    this.initialWindowBytes = this.computeInitialWindow(bytes);
    this.minimumWindowBytes = this.minimumPackets * bytes;
    // RFC 9002 §7.2: an initial window still in use is recomputed with the new size.
    if (untouched) this.cwnd = Math.max(this.initialWindowBytes, this.minimumWindowBytes);
    else if (this.cwnd < this.minimumWindowBytes) this.cwnd = this.minimumWindowBytes;
  }

  /** Window growth for one ACK in congestion avoidance (not in recovery, not app-limited). */
  protected abstract growInAvoidance(now: number, ackedBytes: number, rtt: RttView): void;
  /** Sets `cwnd` and `ssthresh` for a congestion event (the minimum window is enforced after). */
  protected abstract reduceWindow(now: number): void;
  /** Called after the window collapsed on persistent congestion. */
  protected abstract onPersistentCongestion(now: number): void;
  /** Saves algorithm state at a congestion event for a later undo. */
  protected abstract saveForUndo(): void;
  /** Restores what `saveForUndo` saved. */
  protected abstract restoreFromUndo(): void;
  /** An ACK arrived while app-limited; the window stays as it is. */
  protected onAppLimitedAck(_now: number): void {}

  private growInSlowStart(now: number, ackedBytes: number, largestAckedSentTime: number, rtt: RttView): void {
    const hs = this.hyStart;
    if (hs === undefined || hs.finished) {
      this.cwnd += ackedBytes;
      return;
    }
    this.cwnd += hs.onAck(now, ackedBytes, largestAckedSentTime, rtt.latestRtt);
    if (hs.finished) this.ssthresh = this.cwnd;
  }

  private removeFromFlight(bytes: number, what: string): void {
    checkByteCount(bytes, what);
    if (bytes > this.inFlight) {
      throw new RangeError(`${what} (${bytes}) exceed the bytes in flight (${this.inFlight})`);
    }
    this.inFlight -= bytes;
  }

  private computeInitialWindow(size: number): number {
    if (this.initialPackets !== undefined) return this.initialPackets * size;
    return Math.min(10 * size, Math.max(14720, 2 * size));
  }
}
