/**
 * Round-trip time estimation (RFC 9002 §5): latest, minimum, smoothed RTT and RTT variation,
 * with the peer's ack delay subtracted only where it cannot make the sample smaller than
 * min_rtt, and capped at max_ack_delay once the handshake is confirmed. Times in ms.
 */
export class RttEstimator {
  /** kGranularity (RFC 9002 §6.1.2). */
  static readonly GRANULARITY = 1;

  latestRtt = 0;
  minRtt = Infinity;
  smoothedRtt: number;
  rttVar: number;
  /** True once the first sample arrived. */
  hasSample = false;

  constructor(private readonly initialRtt: number) {
    this.smoothedRtt = initialRtt;
    this.rttVar = initialRtt / 2;
  }

  /**
   * Feeds one RTT sample: the time from sending the largest newly acknowledged
   * (ack-eliciting) packet to receiving its ACK, and the ack delay the peer reported
   * (already scaled to ms). `maxAckDelay` applies once the handshake is confirmed.
   */
  update(latestRtt: number, ackDelay: number, handshakeConfirmed: boolean, maxAckDelay: number): void {
    this.latestRtt = latestRtt;
    if (!this.hasSample) {
      this.hasSample = true;
      this.minRtt = latestRtt;
      this.smoothedRtt = latestRtt;
      this.rttVar = latestRtt / 2;
      return;
    }
    if (latestRtt < this.minRtt) this.minRtt = latestRtt;
    if (handshakeConfirmed && ackDelay > maxAckDelay) ackDelay = maxAckDelay;
    let adjusted = latestRtt;
    if (latestRtt >= this.minRtt + ackDelay) adjusted = latestRtt - ackDelay;
    this.rttVar = 0.75 * this.rttVar + 0.25 * Math.abs(this.smoothedRtt - adjusted);
    this.smoothedRtt = 0.875 * this.smoothedRtt + 0.125 * adjusted;
  }

  /**
   * The probe timeout base: smoothed_rtt + max(4*rttvar, kGranularity), without max_ack_delay
   * (the caller adds it for the application space once the handshake is confirmed).
   */
  ptoBase(): number {
    return this.smoothedRtt + Math.max(4 * this.rttVar, RttEstimator.GRANULARITY);
  }

  /** After persistent congestion the minimum is re-learned from the next sample (RFC 9002 §5.2). */
  resetMinRtt(): void {
    this.minRtt = this.latestRtt;
  }

  /** Back to the initial estimate (e.g. a new path). */
  reset(): void {
    this.latestRtt = 0;
    this.minRtt = Infinity;
    this.smoothedRtt = this.initialRtt;
    this.rttVar = this.initialRtt / 2;
    this.hasSample = false;
  }
}
