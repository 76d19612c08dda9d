/**
 * A deterministic single-flow bottleneck for congestion-control tests: a sender driven by a
 * controller (and optionally the pacer), a FIFO link of fixed rate with a tail-drop buffer,
 * and a fixed propagation delay. Each delivered packet is acknowledged at once; the ACKs
 * that arrive in one time step form one ACK frame. Loss is detected RFC 9002 style by
 * packet threshold (3). Everything runs on a simulated clock in fixed steps.
 */

import type { CongestionController, RttView } from '../../src/congestion/controller.js';
import type { Pacer } from '../../src/congestion/pacer.js';

export interface LinkConfig {
  /** Bottleneck rate in bytes per ms. */
  rate: number;
  /** Tail-drop buffer in bytes. */
  buffer: number;
  /** Round-trip propagation delay in ms (excluding queueing and serialization). */
  propagationRtt: number;
  /** Simulated duration in ms. */
  duration: number;
  /** Clock step in ms. */
  step: number;
  /** Packet size in bytes. */
  packetSize: number;
  /** Optional pacer between the controller and the link. */
  pacer?: Pacer;
}

export interface LinkResult {
  /** Bytes acknowledged in the second half of the run. */
  ackedSecondHalf: number;
  /** Bytes the link could carry in the second half. */
  capacitySecondHalf: number;
  /** Packets dropped at the buffer. */
  drops: number;
  /** Congestion window samples, one per ms: [time, cwnd]. */
  cwndTrace: Array<[number, number]>;
  /** Smallest window after the first congestion event. */
  minCwndAfterFirstLoss: number;
  /** Longest time in ms with packets in flight and no ACK arriving. */
  longestAckGap: number;
}

class SimpleRtt implements RttView {
  smoothedRtt = 333;
  minRtt = Infinity;
  latestRtt = 0;
  private started = false;
  sample(rtt: number): void {
    this.latestRtt = rtt;
    if (rtt < this.minRtt) this.minRtt = rtt;
    if (!this.started) {
      this.started = true;
      this.smoothedRtt = rtt;
      return;
    }
    this.smoothedRtt = 0.875 * this.smoothedRtt + 0.125 * rtt;
  }
}

/** Runs one flow through the bottleneck and reports what happened. */
export function runBottleneck(cc: CongestionController, cfg: LinkConfig): LinkResult {
  const size = cfg.packetSize;
  const serialization = size / cfg.rate;
  const rtt = new SimpleRtt();

  // Delivered packets waiting for their ACK to arrive: parallel arrays, FIFO by ACK time.
  const ackAt: number[] = [];
  const ackPn: number[] = [];
  const ackSent: number[] = [];
  let ackHead = 0;
  // Dropped packets not yet declared lost.
  const dropPn: number[] = [];
  const dropSent: number[] = [];
  let dropHead = 0;

  let nextPn = 0;
  let linkBusyUntil = 0;
  let largestAckedPn = -1;
  let drops = 0;
  let ackedSecondHalf = 0;
  let sawLoss = false;
  let minCwndAfterFirstLoss = Infinity;
  let lastAckArrival = 0;
  let longestAckGap = 0;
  const cwndTrace: Array<[number, number]> = [];
  const half = cfg.duration / 2;

  for (let now = 0; now <= cfg.duration; now += cfg.step) {
    // ACKs arriving in this step: losses first, then the acknowledgement (RFC 9002 A.7).
    let ackedBytes = 0;
    let largestSent = -Infinity;
    while (ackHead < ackAt.length && (ackAt[ackHead] as number) <= now) {
      const pn = ackPn[ackHead] as number;
      const sent = ackSent[ackHead] as number;
      ackedBytes += size;
      if (sent > largestSent) largestSent = sent;
      if (pn > largestAckedPn) largestAckedPn = pn;
      ackHead++;
    }
    if (ackedBytes > 0) {
      if (now - lastAckArrival > longestAckGap && cc.bytesInFlight > 0) longestAckGap = now - lastAckArrival;
      lastAckArrival = now;
      rtt.sample(now - largestSent);
      let lostBytes = 0;
      let largestLostSent = -Infinity;
      while (dropHead < dropPn.length && (dropPn[dropHead] as number) + 3 <= largestAckedPn) {
        lostBytes += size;
        const sent = dropSent[dropHead] as number;
        if (sent > largestLostSent) largestLostSent = sent;
        dropHead++;
      }
      if (lostBytes > 0) {
        cc.onPacketsLost(now, lostBytes, largestLostSent, false);
        sawLoss = true;
      }
      cc.onAck(now, ackedBytes, largestSent, rtt, false);
      if (now >= half) ackedSecondHalf += ackedBytes;
    }
    if (sawLoss && cc.congestionWindow < minCwndAfterFirstLoss) minCwndAfterFirstLoss = cc.congestionWindow;

    // Send while the window (and the pacer) allow.
    while (cc.canSend(size)) {
      if (cfg.pacer !== undefined) {
        if (cfg.pacer.timeUntilSend(now, size, cc.congestionWindow, rtt.smoothedRtt) > 0) break;
        cfg.pacer.onSent(now, size);
      }
      const pn = nextPn++;
      cc.onPacketSent(now, size, true);
      const backlog = linkBusyUntil > now ? (linkBusyUntil - now) * cfg.rate : 0;
      if (backlog + size > cfg.buffer) {
        drops++;
        dropPn.push(pn);
        dropSent.push(now);
        continue;
      }
      const departure = (linkBusyUntil > now ? linkBusyUntil : now) + serialization;
      linkBusyUntil = departure;
      ackAt.push(departure + cfg.propagationRtt);
      ackPn.push(pn);
      ackSent.push(now);
    }
    if (Math.abs(now - Math.round(now)) < cfg.step / 2) cwndTrace.push([Math.round(now), cc.congestionWindow]);
  }
  return {
    ackedSecondHalf,
    capacitySecondHalf: cfg.rate * half,
    drops,
    cwndTrace,
    minCwndAfterFirstLoss,
    longestAckGap,
  };
}
