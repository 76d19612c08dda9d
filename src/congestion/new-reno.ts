/**
 * NewReno as RFC 9002 §7 and Appendix B specify it for QUIC: slow start, congestion
 * avoidance adding one maximum datagram size per window acknowledged, halving on a
 * congestion event (kLossReductionFactor = 0.5), at most once per recovery period.
 */

import { LossBasedController } from './controller.js';
import type { CongestionSettings, RttView } from './controller.js';

/** kLossReductionFactor (RFC 9002 §7.3.2). */
export const NEW_RENO_LOSS_REDUCTION_FACTOR = 0.5;

/** The RFC 9002 congestion controller. */
export class NewRenoController extends LossBasedController {
  readonly algorithm = 'newreno' as const;

  /** Bytes acknowledged in congestion avoidance not yet turned into window growth. */
  private avoidanceCredit = 0;
  private undoCredit = 0;

  constructor(settings: CongestionSettings = {}) {
    super(settings);
  }

  protected growInAvoidance(_now: number, ackedBytes: number, _rtt: RttView): void {
    // RFC 9002 §7.3.3: one maximum datagram size per congestion window acknowledged,
    // counted in bytes so that the growth per round trip is exact.
    this.avoidanceCredit += ackedBytes;
    while (this.avoidanceCredit >= this.cwnd) {
      this.avoidanceCredit -= this.cwnd;
      this.cwnd += this.mds;
    }
  }

  protected reduceWindow(_now: number): void {
    this.ssthresh = Math.floor(this.cwnd * NEW_RENO_LOSS_REDUCTION_FACTOR);
    this.cwnd = this.ssthresh;
    this.avoidanceCredit = 0;
  }

  protected onPersistentCongestion(_now: number): void {
    this.avoidanceCredit = 0;
  }

  protected saveForUndo(): void {
    this.undoCredit = this.avoidanceCredit;
  }

  protected restoreFromUndo(): void {
    this.avoidanceCredit = this.undoCredit;
  }
}
