/**
 * Pacing (RFC 9002 §7.7): a token bucket that spreads the congestion window over the
 * smoothed RTT at rate N × cwnd / smoothed_rtt (N = 1.25), allowing a burst of about ten
 * packets — more when a single timer tick at the current rate carries more — so that a
 * connection never dumps a whole window at once, and after an idle period bursts at most
 * that much. No timers: the connection asks `timeUntilSend` and arms its own deadline.
 */

import { MIN_DATAGRAM_SIZE, checkDatagramSize } from './controller.js';

/** Tunables of the pacer. */
export interface PacerSettings {
  /** Maximum datagram size in bytes; default 1200. */
  maxDatagramSize?: number;
  /** Packets that may leave back to back; default 10. */
  burstPackets?: number;
  /** N, the rate multiple of cwnd / smoothed_rtt; default 1.25 (RFC 9002 §7.7). */
  gain?: number;
  /**
   * Resolution of the caller's timers in ms (default 2): the burst grows to what the rate
   * delivers in one tick, so coarse timers do not cap the throughput.
   */
  timerGranularity?: number;
}

/** Tokens below a pending send by less than this count as enough (float rounding). */
const TOKEN_EPSILON = 1e-6;

/** A token-bucket pacer. Bytes and milliseconds. */
export class Pacer {
  private readonly burstPackets: number;
  private readonly gain: number;
  private readonly granularity: number;
  private mds: number;
  private tokens: number;
  private capacity: number;
  /** Bytes per ms; Infinity when no rate is known (no pacing). */
  private rate = Infinity;
  private lastRefill = NaN;
  /** When the packet a positive `timeUntilSend` answer was about may go. */
  private releaseAt = Infinity;

  constructor(settings: PacerSettings = {}) {
    const size = settings.maxDatagramSize ?? MIN_DATAGRAM_SIZE;
    checkDatagramSize(size);
    this.burstPackets = settings.burstPackets ?? 10;
    if (!Number.isInteger(this.burstPackets) || this.burstPackets < 1) {
      throw new RangeError(`burstPackets must be a positive integer, got ${this.burstPackets}`);
    }
    this.gain = settings.gain ?? 1.25;
    if (!(this.gain >= 1) || this.gain === Infinity) {
      throw new RangeError(`gain must be a finite number ≥ 1, got ${this.gain}`);
    }
    this.granularity = settings.timerGranularity ?? 2;
    if (!(this.granularity >= 0) || this.granularity === Infinity) {
      throw new RangeError(`timerGranularity must be a finite number of ms ≥ 0, got ${this.granularity}`);
    }
    this.mds = size;
    this.capacity = this.burstPackets * size;
    this.tokens = this.capacity;
  }

  /** The pacing rate in bytes per ms set by the last `timeUntilSend` (Infinity before). */
  get pacingRate(): number {
    return this.rate;
  }

  /** Bytes that may currently leave back to back. */
  get burstCapacity(): number {
    return this.capacity;
  }

  /**
   * How long (ms) to wait before a packet of `bytes` may be sent: 0 means now. Takes the
   * current congestion window (bytes) and smoothed RTT (ms); with no usable RTT it does not
   * pace. A packet larger than the burst waits only for a full bucket, so this always
   * reaches 0.
   */
  timeUntilSend(now: number, bytes: number, congestionWindow: number, smoothedRtt: number): number {
    if (!(smoothedRtt > 0) || !(congestionWindow > 0) || smoothedRtt === Infinity) {
      this.rate = Infinity;
      this.lastRefill = now;
      this.tokens = this.capacity;
      return 0;
    }
    this.rate = (this.gain * congestionWindow) / smoothedRtt;
    // Burst: ten packets, or one timer tick's worth at this rate, but never above a window.
    const perTick = this.rate * this.granularity;
    const tickBurst = perTick < congestionWindow ? perTick : congestionWindow;
    const floor = this.burstPackets * this.mds;
    this.capacity = tickBurst > floor ? tickBurst : floor;
    this.refill(now);
    const needed = bytes < this.capacity ? bytes : this.capacity;
    const deficit = needed - this.tokens;
    if (deficit <= TOKEN_EPSILON) return 0;
    // The time named last is honoured even if float rounding (large clock values) leaves
    // the bucket a hair short, so waiting what was said always suffices.
    if (now >= this.releaseAt) {
      this.tokens = needed;
      return 0;
    }
    const at = now + deficit / this.rate;
    if (!(at > now)) return 0; // below the resolution of the clock value
    this.releaseAt = at;
    return at - now;
  }

  /** A packet of `bytes` left at `now` (paced or not: probes may bypass the pacer). */
  onSent(now: number, bytes: number): void {
    this.refill(now);
    this.releaseAt = Infinity;
    this.tokens -= bytes;
    // Sending past the bucket (a bypassing probe) is forgiven rather than owed.
    if (this.tokens < 0) this.tokens = 0;
  }

  /** The maximum datagram size changed; the minimum burst follows it. */
  setMaxDatagramSize(bytes: number): void {
    checkDatagramSize(bytes);
    this.mds = bytes;
    const floor = this.burstPackets * bytes;
    if (this.capacity < floor) this.capacity = floor;
  }

  private refill(now: number): void {
    const last = this.lastRefill;
    if (Number.isNaN(last) || now > last) this.lastRefill = now;
    const tokens = now > last ? this.tokens + (now - last) * this.rate : this.tokens;
    this.tokens = tokens < this.capacity ? tokens : this.capacity;
  }
}
