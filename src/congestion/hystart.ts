/**
 * HyStart++ (RFC 9406): leaves the initial slow start when the round-trip time starts to
 * climb (a queue is building), through Conservative Slow Start (CSS), instead of waiting for
 * the loss that doubling would eventually cause. The sender is assumed to pace, so the
 * per-ACK growth limit L is infinite (RFC 9406 §4.3).
 *
 * Rounds are delimited by send times, not packet numbers: a round ends when an ACK arrives
 * for a packet sent at or after the moment the round began.
 */

/** RFC 9406 §4.3 constants (times in ms). */
const MIN_RTT_THRESH = 4;
const MAX_RTT_THRESH = 16;
const MIN_RTT_DIVISOR = 8;
const N_RTT_SAMPLE = 8;
const CSS_GROWTH_DIVISOR = 4;
const CSS_ROUNDS = 5;

const PHASE_SLOW_START = 0;
const PHASE_CSS = 1;
const PHASE_FINISHED = 2;

/** The HyStart++ state machine for one slow start; the owner applies the growth it returns. */
export class HyStartPlusPlus {
  private phase = PHASE_SLOW_START;
  /** Send time from which packets belong to the next round. */
  private roundBoundary = -Infinity;
  private lastRoundMinRtt = Infinity;
  private currentRoundMinRtt = Infinity;
  private rttSampleCount = 0;
  private cssBaselineMinRtt = Infinity;
  private cssRoundsDone = 0;

  /** True once slow start should give way to congestion avoidance (set ssthresh = cwnd). */
  get finished(): boolean {
    return this.phase === PHASE_FINISHED;
  }

  /** True while in Conservative Slow Start. */
  get inConservativeSlowStart(): boolean {
    return this.phase === PHASE_CSS;
  }

  /**
   * One ACK in slow start: `ackedBytes` newly acknowledged, the largest acknowledged packet
   * sent at `largestAckedSentTime`, `rttSample` the latest RTT (ms; each ACK counts as one
   * sample, as RFC 9406 counts them). Returns the bytes by which to grow the window; check
   * `finished` afterwards.
   */
  onAck(now: number, ackedBytes: number, largestAckedSentTime: number, rttSample: number): number {
    if (this.phase === PHASE_FINISHED) return 0;
    if (largestAckedSentTime >= this.roundBoundary) {
      this.roundBoundary = now;
      this.lastRoundMinRtt = this.currentRoundMinRtt;
      this.currentRoundMinRtt = Infinity;
      this.rttSampleCount = 0;
      if (this.phase === PHASE_CSS && ++this.cssRoundsDone >= CSS_ROUNDS) {
        this.phase = PHASE_FINISHED;
        return 0;
      }
    }
    if (rttSample > 0 && rttSample < this.currentRoundMinRtt) this.currentRoundMinRtt = rttSample;
    this.rttSampleCount++;

    if (this.phase === PHASE_SLOW_START) {
      if (
        this.rttSampleCount >= N_RTT_SAMPLE &&
        this.currentRoundMinRtt !== Infinity &&
        this.lastRoundMinRtt !== Infinity
      ) {
        const threshold = Math.max(
          MIN_RTT_THRESH,
          Math.min(this.lastRoundMinRtt / MIN_RTT_DIVISOR, MAX_RTT_THRESH),
        );
        if (this.currentRoundMinRtt >= this.lastRoundMinRtt + threshold) {
          this.cssBaselineMinRtt = this.currentRoundMinRtt;
          this.cssRoundsDone = 0;
          this.phase = PHASE_CSS;
        }
      }
      return ackedBytes;
    }

    // Conservative Slow Start: back to slow start if the delay increase was spurious.
    if (this.rttSampleCount >= N_RTT_SAMPLE && this.currentRoundMinRtt < this.cssBaselineMinRtt) {
      this.cssBaselineMinRtt = Infinity;
      this.phase = PHASE_SLOW_START;
    }
    return ackedBytes / CSS_GROWTH_DIVISOR;
  }

  /** A congestion event ended slow start the ordinary way; HyStart++ is done. */
  finish(): void {
    this.phase = PHASE_FINISHED;
  }
}
