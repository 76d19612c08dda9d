/**
 * CUBIC (RFC 9438) for QUIC: the window follows W_cubic(t) = C·(t − K)³ + W_max after a
 * congestion event, concave up to the previous maximum and convex beyond it, never below
 * the window Reno would have reached (the Reno-friendly region). Slow start, the recovery
 * period and persistent congestion are RFC 9002's (see `LossBasedController`).
 *
 * Windows are in bytes and times in ms; the cubic formula is evaluated in segments and
 * seconds as the RFC writes it, scaled by the maximum datagram size.
 */

import { LossBasedController } from './controller.js';
import type { CongestionSettings, RttView } from './controller.js';

/** C (RFC 9438 §5.1), in segments per second³. */
export const CUBIC_C = 0.4;
/** β_cubic, the multiplicative decrease factor (RFC 9438 §4.6). */
export const CUBIC_BETA = 0.7;
/** α_cubic = 3(1 − β)/(1 + β): Reno-friendly additive increase per round trip (RFC 9438 §4.3). */
export const CUBIC_ALPHA = (3 * (1 - CUBIC_BETA)) / (1 + CUBIC_BETA);

/** Settings for CUBIC beyond the shared ones. */
export interface CubicSettings extends CongestionSettings {
  /** Fast convergence (RFC 9438 §4.7); default true. */
  fastConvergence?: boolean;
}

/**
 * K, in seconds, for a curve that starts at `cwndEpoch` and returns to `wMax` (both in
 * segments): the cube root of (W_max − cwnd_epoch)/C (RFC 9438 §4.2). Negative when the
 * epoch starts above W_max, which puts the whole curve in its convex part.
 */
export function cubicK(wMaxSegments: number, cwndEpochSegments: number): number {
  return Math.cbrt((wMaxSegments - cwndEpochSegments) / CUBIC_C);
}

/** The CUBIC congestion controller. */
export class CubicController extends LossBasedController {
  readonly algorithm = 'cubic' as const;

  private readonly fastConvergence: boolean;
  /** W_max in bytes; 0 = take the window at the start of the next avoidance stage (K = 0). */
  private wMax = 0;
  /** K in seconds for the current stage. */
  private k = 0;
  /** Start of the current congestion avoidance stage (ms); NaN before it starts. */
  private epochStart = NaN;
  /** W_est, the Reno-friendly estimate, in bytes. */
  private wEst = 0;
  /** cwnd when ssthresh was last set, in bytes. */
  private cwndPrior = 0;

  private undoWMax = 0;
  private undoK = 0;
  private undoEpochStart = NaN;
  private undoWEst = 0;
  private undoCwndPrior = 0;

  constructor(settings: CubicSettings = {}) {
    super(settings);
    this.fastConvergence = settings.fastConvergence ?? true;
  }

  /** W_max in bytes: the window the curve plateaus at (0 before the first congestion event). */
  get maxWindow(): number {
    return this.wMax;
  }
  /** K in seconds for the current avoidance stage. */
  get kSeconds(): number {
    return this.k;
  }
  /** Start time (ms) of the current congestion avoidance stage, NaN outside one. */
  get epochStartTime(): number {
    return this.epochStart;
  }
  /** W_est in bytes, the window Reno would have in this stage. */
  get renoEstimate(): number {
    return this.wEst;
  }

  /** W_cubic(t) in bytes, `t` seconds into the current avoidance stage. */
  cubicWindow(tSeconds: number): number {
    const d = tSeconds - this.k;
    return CUBIC_C * d * d * d * this.mds + this.wMax;
  }

  protected growInAvoidance(now: number, ackedBytes: number, rtt: RttView): void {
    if (Number.isNaN(this.epochStart)) this.startEpoch(now);
    const cwnd = this.cwnd;
    const mss = this.mds;

    // Reno-friendly estimate (RFC 9438 §4.3): α_cubic per round trip until W_est reaches the
    // window before the last reduction, then 1 like Reno.
    const alpha = this.wEst >= this.cwndPrior ? 1 : CUBIC_ALPHA;
    this.wEst += (alpha * mss * ackedBytes) / cwnd;

    const t = (now - this.epochStart) / 1000;
    if (this.cubicWindow(t) < this.wEst) {
      if (this.wEst > cwnd) this.cwnd = this.wEst;
      return;
    }
    // Concave and convex regions (RFC 9438 §4.4, §4.5): head for W_cubic one RTT ahead,
    // growing by at most half the window per round trip.
    let target = this.cubicWindow(t + rtt.smoothedRtt / 1000);
    if (target < cwnd) target = cwnd;
    else if (target > 1.5 * cwnd) target = 1.5 * cwnd;
    this.cwnd = cwnd + ((target - cwnd) * ackedBytes) / cwnd;
  }

  protected reduceWindow(_now: number): void {
    const cwnd = this.cwnd;
    // Fast convergence (RFC 9438 §4.7): a maximum below the previous one means competing
    // flows; release bandwidth by remembering a lower W_max.
    this.wMax = this.fastConvergence && cwnd < this.wMax ? (cwnd * (1 + CUBIC_BETA)) / 2 : cwnd;
    this.cwndPrior = cwnd;
    this.ssthresh = Math.floor(cwnd * CUBIC_BETA);
    this.cwnd = this.ssthresh;
    // The next avoidance stage (and K, from the window then) begins with the first ACK
    // after the recovery period.
    this.epochStart = NaN;
  }

  protected onPersistentCongestion(_now: number): void {
    // RFC 9438 §4.8: after slow start, the next stage starts with W_max = cwnd and K = 0.
    this.wMax = 0;
    this.epochStart = NaN;
  }

  protected override onAppLimitedAck(now: number): void {
    // Time spent not using the window does not advance the curve: shift the epoch.
    if (Number.isNaN(this.epochStart) || Number.isNaN(this.lastAckTime)) return;
    const from = this.lastAckTime > this.epochStart ? this.lastAckTime : this.epochStart;
    if (now > from) this.epochStart += now - from;
  }

  protected saveForUndo(): void {
    this.undoWMax = this.wMax;
    this.undoK = this.k;
    this.undoEpochStart = this.epochStart;
    this.undoWEst = this.wEst;
    this.undoCwndPrior = this.cwndPrior;
  }

  protected restoreFromUndo(): void {
    this.wMax = this.undoWMax;
    this.k = this.undoK;
    this.epochStart = this.undoEpochStart;
    this.wEst = this.undoWEst;
    this.cwndPrior = this.undoCwndPrior;
  }

  private startEpoch(now: number): void {
    this.epochStart = now;
    const cwnd = this.cwnd;
    if (this.wMax === 0) {
      // First stage after slow start ended without a loss, or after persistent congestion.
      this.wMax = cwnd;
      this.k = 0;
    } else {
      this.k = cubicK(this.wMax / this.mds, cwnd / this.mds);
    }
    this.wEst = cwnd;
  }
}
