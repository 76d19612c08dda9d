import { describe, it, expect } from 'vitest';
import { CUBIC_ALPHA, CUBIC_BETA, CUBIC_C, CubicController, cubicK } from '../../src/congestion/cubic.js';
import { ackClockedFlow, fixedRtt, roundTrip } from './drive.js';

const MSS = 1200;

/** A CUBIC controller that just reduced from `packets` packets at t = 0, nothing in flight. */
function afterLossAt(packets: number, settings: { fastConvergence?: boolean } = {}): CubicController {
  const cc = new CubicController({ initialWindowPackets: packets, ...settings });
  cc.onPacketSent(0, MSS, true);
  cc.onPacketsLost(0, MSS, 0, false);
  return cc;
}

describe('CUBIC constants and K (RFC 9438 §4.2, §5)', () => {
  it('uses C = 0.4, β = 0.7, α = 3(1 − β)/(1 + β)', () => {
    expect(CUBIC_C).toBe(0.4);
    expect(CUBIC_BETA).toBe(0.7);
    expect(CUBIC_ALPHA).toBeCloseTo(0.9 / 1.7, 12);
  });

  it('computes K = cbrt((W_max − cwnd_epoch)/C) in seconds', () => {
    // W_max 100 segments, reduced to 70: K = cbrt(30 / 0.4) = cbrt(75).
    expect(cubicK(100, 70)).toBeCloseTo(4.21716, 5);
    expect(cubicK(1000, 700)).toBeCloseTo(9.08560, 5);
    expect(cubicK(20, 14)).toBeCloseTo(2.46621, 5);
    expect(cubicK(50, 50)).toBe(0);
    expect(cubicK(50, 60)).toBeCloseTo(-Math.cbrt(25), 12);
  });
});

describe('CUBIC multiplicative decrease (RFC 9438 §4.6, §4.7)', () => {
  it('multiplies the window by 0.7 on loss and remembers W_max', () => {
    const cc = afterLossAt(100);
    expect(cc.congestionWindow).toBe(84000);
    expect(cc.slowStartThreshold).toBe(84000);
    expect(cc.maxWindow).toBe(120000);
    expect(cc.isRecovering).toBe(true);
  });

  it('reduces once per recovery period', () => {
    const cc = afterLossAt(100);
    cc.onPacketSent(1, 5 * MSS, true);
    cc.onPacketsLost(2, MSS, 0, false);
    cc.onCongestionEvent(3, 0);
    expect(cc.congestionWindow).toBe(84000);
    // The recovery period ends with the ACK of a packet sent after it began.
    cc.onAck(101, MSS, 1, fixedRtt(100), false);
    expect(cc.isRecovering).toBe(false);
    const grown = cc.congestionWindow;
    expect(grown).toBeGreaterThan(84000);
    // A packet sent after the first reduction is lost: a second, separate reduction.
    cc.onPacketsLost(102, MSS, 1, false);
    expect(Math.abs(cc.congestionWindow - grown * 0.7)).toBeLessThanOrEqual(1);
    expect(cc.maxWindow).toBeCloseTo(grown * 0.85, -1);
  });

  it('applies fast convergence when a maximum falls short of the previous one', () => {
    for (const fastConvergence of [true, false]) {
      const cc = afterLossAt(1000, { fastConvergence });
      expect(cc.maxWindow).toBe(1000 * MSS);
      // Lost again at 700 packets, below W_max = 1000.
      cc.onPacketSent(10, MSS, true);
      cc.onPacketsLost(20, MSS, 10, false);
      expect(cc.congestionWindow).toBe(Math.floor(700 * MSS * 0.7));
      expect(cc.maxWindow).toBeCloseTo(fastConvergence ? 700 * MSS * 0.85 : 700 * MSS, 6);
    }
  });
});

describe('CUBIC window growth', () => {
  it('follows W_cubic(t), concave up to W_max at t = K, convex beyond', () => {
    // W_max = 1000 packets, RTT 100 ms: the cubic region (Reno would be far slower).
    const cc = afterLossAt(1000);
    const rtt = fixedRtt(100);
    const samples: Array<{ t: number; cwnd: number; cubic: number; reno: number }> = [];
    let nextSample = 500;
    ackClockedFlow(cc, 1, 14_000, rtt, 10, (now) => {
      if (now < nextSample) return;
      nextSample += 500;
      const t = (now - cc.epochStartTime) / 1000;
      samples.push({ t, cwnd: cc.congestionWindow, cubic: cc.cubicWindow(t), reno: cc.renoEstimate });
      if (t > 0.5 && t < cc.kSeconds - 2) {
        // Concave part: the window runs ahead of W_cubic(t), aiming at W_cubic(t + RTT)
        // without overshooting it.
        expect(cc.congestionWindow).toBeGreaterThan(cc.cubicWindow(t));
        expect(cc.congestionWindow).toBeLessThanOrEqual(cc.cubicWindow(t + 0.1) + 1);
      }
    });
    // K was computed from the window at the start of the stage (700 packets).
    expect(cc.kSeconds).toBeCloseTo(cubicK(1000, 700), 9);
    expect(cc.cubicWindow(cc.kSeconds)).toBeCloseTo(1000 * MSS, 6);
    expect(samples.length).toBeGreaterThan(25);
    for (const s of samples) {
      // Within 3% of the curve (it aims one RTT ahead), and above Reno's estimate.
      expect(Math.abs(s.cwnd - s.cubic) / s.cubic).toBeLessThan(0.03);
      expect(s.cwnd).toBeGreaterThan(s.reno);
    }
    const at = (t: number) => samples.reduce((a, b) => (Math.abs(b.t - t) < Math.abs(a.t - t) ? b : a));
    // Reaches W_max around t = K ≈ 9.09 s.
    expect(Math.abs(at(cc.kSeconds).cwnd - 1000 * MSS)).toBeLessThan(0.005 * 1000 * MSS);
    expect(at(cc.kSeconds - 3).cwnd).toBeLessThan(1000 * MSS);
    // Concave before K: the growth per second shrinks; convex after: it rises.
    const growth = (t: number) => at(t + 1).cwnd - at(t).cwnd;
    expect(growth(1)).toBeGreaterThan(growth(3));
    expect(growth(3)).toBeGreaterThan(growth(6));
    expect(growth(11)).toBeGreaterThan(growth(10));
    expect(growth(12)).toBeGreaterThan(growth(11));
    expect(at(13).cwnd).toBeGreaterThan(1000 * MSS);
    // Never shrinks in congestion avoidance.
    for (let i = 1; i < samples.length; i++) {
      expect((samples[i] as { cwnd: number }).cwnd).toBeGreaterThanOrEqual((samples[i - 1] as { cwnd: number }).cwnd);
    }
  });

  it('grows by at most half the acknowledged bytes per ACK (target ≤ 1.5 × cwnd)', () => {
    // After persistent congestion and slow start, the curve restarts with K = 0; with a
    // 3 s RTT, W_cubic(t + RTT) is far above 1.5 × cwnd soon into the stage.
    const cc = new CubicController({ initialWindowPackets: 10 });
    const rtt = fixedRtt(3000);
    cc.onPacketSent(0, MSS, true);
    cc.onPacketsLost(1, MSS, 0, true);
    let now = 1;
    while (cc.inSlowStart) now = roundTrip(cc, now + 1, rtt);
    now += 1;
    const packets = cc.congestionWindow / MSS;
    for (let i = 0; i < packets; i++) cc.onPacketSent(now, MSS, true);
    let clamped = 0;
    for (let i = 0; i < packets; i++) {
      const t = now + 3000 + i * 400;
      const before = cc.congestionWindow;
      cc.onAck(t, MSS, now, rtt, false);
      const tStage = (t - cc.epochStartTime) / 1000;
      const unclamped = cc.cubicWindow(tStage + 3);
      if (unclamped > 1.5 * before && cc.cubicWindow(tStage) >= cc.renoEstimate) {
        clamped++;
        expect(cc.congestionWindow - before).toBeLessThanOrEqual(MSS / 2 + 1);
      }
    }
    expect(cc.kSeconds).toBe(0);
    expect(clamped).toBeGreaterThan(2);
  });

  it('hands over to the Reno-friendly estimate at small RTT × window', () => {
    // W_max = 20 packets, RTT 1 ms: the cubic curve barely moves in a second while Reno
    // adds α per round trip up to the old window, then one packet per round trip.
    const cc = afterLossAt(20);
    const rtt = fixedRtt(1);
    let checked = 0;
    ackClockedFlow(cc, 1, 400, rtt, 0.25, (now) => {
      if (Number.isNaN(cc.epochStartTime)) return;
      const tMs = now - cc.epochStartTime;
      if (tMs < 100 || checked > 0 && tMs < checked + 50) return;
      checked = tMs;
      const cubic = cc.cubicWindow(tMs / 1000);
      expect(cc.congestionWindow).toBe(Math.floor(cc.renoEstimate));
      expect(cc.congestionWindow).toBeGreaterThan(2 * cubic);
      // 14 → 20 packets at α per RTT takes 6/α round trips, then 1 packet per RTT.
      const expected = 20 + (tMs - 6 / CUBIC_ALPHA);
      expect(Math.abs(cc.congestionWindow / MSS - expected)).toBeLessThan(2);
    });
    expect(checked).toBeGreaterThan(300);
  });

  it('moves from the Reno-friendly region back to the cubic one as t grows', () => {
    // W_max = 100 packets at 100 ms: Reno catches the plateau after K, the convex part
    // overtakes Reno later.
    const cc = afterLossAt(100);
    const rtt = fixedRtt(100);
    const seen: string[] = [];
    ackClockedFlow(cc, 1, 14_000, rtt, 10, (now) => {
      if (Number.isNaN(cc.epochStartTime)) return;
      const cubic = cc.cubicWindow((now - cc.epochStartTime) / 1000);
      // Classify only clear cases (1% apart): the two meet where the regions hand over.
      const region = cubic * 1.01 < cc.renoEstimate ? 'reno' : cc.renoEstimate * 1.01 < cubic ? 'cubic' : undefined;
      if (region !== undefined && seen[seen.length - 1] !== region) seen.push(region);
      if (region === 'reno') expect(cc.congestionWindow).toBe(Math.floor(cc.renoEstimate));
    });
    expect(seen).toEqual(['cubic', 'reno', 'cubic']);
  });

  it('slow-starts like Reno before the first loss', () => {
    const cc = new CubicController();
    let now = 0;
    const windows: number[] = [];
    for (let i = 0; i < 4; i++) {
      now = roundTrip(cc, now, fixedRtt(50));
      windows.push(cc.congestionWindow);
    }
    expect(windows).toEqual([24000, 48000, 96000, 192000]);
  });
});

describe('CUBIC app-limited, persistent congestion and undo', () => {
  it('does not grow while app-limited, and does not let the idle time advance the curve', () => {
    const cc = afterLossAt(1000);
    const rtt = fixedRtt(100);
    let now = ackClockedFlow(cc, 1, 3000, rtt, 10);
    // Drain the window: everything in flight is acknowledged one RTT later, app-limited.
    cc.onAck(now + 100, cc.bytesInFlight, now, rtt, true);
    now += 100;
    const epoch = cc.epochStartTime;
    const cwnd = cc.congestionWindow;
    const tBefore = (now - epoch) / 1000;
    // Five seconds sending ten packets per RTT: app-limited.
    for (let i = 0; i < 50; i++) {
      now = roundTripOf(cc, now, 10 * MSS, rtt, true);
    }
    expect(cc.congestionWindow).toBe(cwnd);
    expect(cc.epochStartTime - epoch).toBeGreaterThan(4900);
    expect(cc.epochStartTime - epoch).toBeLessThanOrEqual(5100);
    // Window-limited again: the curve resumes where it stopped, not 5 s further on.
    ackClockedFlow(cc, now, 1000, rtt, 10);
    const tAfter = (now + 1000 - cc.epochStartTime) / 1000;
    expect(tAfter).toBeCloseTo(tBefore + 1, 0);
    expect(cc.congestionWindow).toBeLessThan(cc.cubicWindow(tBefore + 2));
    expect(cc.congestionWindow).toBeGreaterThan(cwnd);
  });

  it('collapses on persistent congestion, slow-starts to ssthresh, then restarts the curve with K = 0', () => {
    const cc = afterLossAt(1000);
    const rtt = fixedRtt(100);
    let now = ackClockedFlow(cc, 1, 1000, rtt, 10);
    const before = cc.congestionWindow;
    cc.onPacketsLost(now + 1, cc.bytesInFlight, now, true);
    now += 1;
    expect(cc.congestionWindow).toBe(2400);
    expect(Math.abs(cc.slowStartThreshold - before * 0.7)).toBeLessThanOrEqual(1);
    expect(cc.inSlowStart).toBe(true);
    expect(cc.isRecovering).toBe(false);
    expect(cc.onSpuriousCongestionEvent()).toBe(false);
    while (cc.inSlowStart) now = roundTrip(cc, now + 1, rtt);
    const entered = cc.congestionWindow;
    now = roundTrip(cc, now + 1, rtt);
    expect(cc.kSeconds).toBe(0);
    expect(cc.maxWindow).toBe(entered);
    expect(cc.congestionWindow).toBeGreaterThan(entered);
  });

  it('restores the state before a spurious reduction', () => {
    const cc = afterLossAt(1000);
    const rtt = fixedRtt(100);
    const now = ackClockedFlow(cc, 1, 2000, rtt, 10);
    const cwnd = cc.congestionWindow;
    const k = cc.kSeconds;
    const epoch = cc.epochStartTime;
    cc.onPacketsLost(now + 1, 0, now, false);
    expect(cc.congestionWindow).toBe(Math.floor(cwnd * 0.7));
    expect(cc.onSpuriousCongestionEvent()).toBe(true);
    expect(cc.congestionWindow).toBe(cwnd);
    expect(cc.slowStartThreshold).toBe(Math.floor(1000 * MSS * 0.7));
    expect(cc.maxWindow).toBe(1000 * MSS);
    expect(cc.kSeconds).toBe(k);
    expect(cc.epochStartTime).toBe(epoch);
    expect(cc.isRecovering).toBe(false);
  });
});

/** Sends `bytes` at `now`, acknowledges them one RTT later. */
function roundTripOf(
  cc: CubicController,
  now: number,
  bytes: number,
  rtt: ReturnType<typeof fixedRtt>,
  appLimited: boolean,
): number {
  cc.onPacketSent(now, bytes, true);
  cc.onAck(now + rtt.smoothedRtt, bytes, now, rtt, appLimited);
  return now + rtt.smoothedRtt;
}
