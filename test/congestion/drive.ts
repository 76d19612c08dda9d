/**
 * Small drivers for congestion-controller tests: a fixed RTT view, whole-window round trips,
 * and an ACK-clocked flow over a path with a constant RTT and no queue.
 */

import type { CongestionController, RttView } from '../../src/congestion/controller.js';

/** A constant RTT estimate of `ms`. */
export function fixedRtt(ms: number): RttView {
  return { smoothedRtt: ms, minRtt: ms, latestRtt: ms };
}

/**
 * One window-limited round trip: at `now`, send everything the window allows in packets of
 * the maximum datagram size; one RTT later acknowledge it all in one ACK frame.
 * Returns the time of that ACK.
 */
export function roundTrip(cc: CongestionController, now: number, rtt: RttView, appLimited = false): number {
  const size = cc.maxDatagramSize;
  let sent = 0;
  while (cc.canSend(size)) {
    cc.onPacketSent(now, size, true);
    sent += size;
  }
  const ackTime = now + rtt.smoothedRtt;
  cc.onAck(ackTime, sent, now, rtt, appLimited);
  return ackTime;
}

/**
 * An ACK-clocked, window-limited flow on a path of constant RTT: every `step` ms the
 * packets sent one RTT earlier are acknowledged (one ACK frame) and the freed window is
 * refilled. `observe` sees the controller after each step. Returns the end time.
 */
export function ackClockedFlow(
  cc: CongestionController,
  start: number,
  duration: number,
  rtt: RttView,
  step: number,
  observe?: (now: number) => void,
): number {
  const size = cc.maxDatagramSize;
  const sentAt: number[] = [];
  const sentBytes: number[] = [];
  let head = 0;
  const end = start + duration;
  let now = start;
  for (;;) {
    let acked = 0;
    let largest = -Infinity;
    while (head < sentAt.length && (sentAt[head] as number) + rtt.smoothedRtt <= now + 1e-9) {
      acked += sentBytes[head] as number;
      largest = sentAt[head] as number;
      head++;
    }
    if (acked > 0) cc.onAck(now, acked, largest, rtt, false);
    let burst = 0;
    while (cc.canSend(size)) {
      cc.onPacketSent(now, size, true);
      burst += size;
    }
    if (burst > 0) {
      sentAt.push(now);
      sentBytes.push(burst);
    }
    observe?.(now);
    if (now >= end) break;
    now = Math.min(end, now + step);
  }
  return now;
}

/**
 * Acknowledges everything in flight at `now` as app-limited (so the window does not move),
 * as sent at `sentTime`.
 */
export function drain(cc: CongestionController, now: number, sentTime: number, rtt: RttView): void {
  if (cc.bytesInFlight > 0) cc.onAck(now, cc.bytesInFlight, sentTime, rtt, true);
}
