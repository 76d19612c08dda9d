import { describe, it, expect } from 'vitest';
import { CubicController } from '../../src/congestion/cubic.js';
import { NewRenoController } from '../../src/congestion/new-reno.js';
import type { CongestionController } from '../../src/congestion/controller.js';
import { HyStartPlusPlus } from '../../src/congestion/hystart.js';
import { fixedRtt } from './drive.js';

const MSS = 1200;

/**
 * One round of slow start: the whole window leaves at `now`, and each packet is
 * acknowledged on its own `rtt` ms later with that RTT as the sample. Returns the time of
 * the last ACK.
 */
function round(cc: CongestionController, now: number, rtt: number): number {
  let packets = 0;
  while (cc.canSend(MSS)) {
    cc.onPacketSent(now, MSS, true);
    packets++;
  }
  const view = fixedRtt(rtt);
  let t = now + rtt;
  for (let i = 0; i < packets; i++, t += 0.01) cc.onAck(t, MSS, now, view, false);
  return t;
}

describe('HyStart++ (RFC 9406)', () => {
  it('is plain slow start while the RTT stays flat', () => {
    const cc = new CubicController({ hyStart: true });
    let now = 0;
    for (let i = 0; i < 8; i++) {
      now = round(cc, now, 50);
      expect(cc.inConservativeSlowStart).toBe(false);
    }
    expect(cc.congestionWindow).toBe(12000 * 2 ** 8);
    expect(cc.inSlowStart).toBe(true);
  });

  it('enters CSS on an RTT rise, grows a quarter as fast, and leaves slow start after five rounds', () => {
    for (const cc of [new CubicController({ hyStart: true }), new NewRenoController({ hyStart: true })]) {
      let now = 0;
      for (let i = 0; i < 4; i++) now = round(cc, now, 50);
      expect(cc.congestionWindow).toBe(192000);
      // RTT up by 10 ms ≥ max(4, min(50/8, 16)) = 6.25 ms: CSS after the eighth sample.
      now = round(cc, now, 60);
      expect(cc.inConservativeSlowStart).toBe(true);
      // 8 packets at full rate, the other 152 at a quarter.
      expect(cc.congestionWindow).toBe(192000 + 8 * MSS + (152 * MSS) / 4);
      const windows: number[] = [cc.congestionWindow];
      for (let i = 0; i < 4; i++) {
        now = round(cc, now, 60);
        windows.push(cc.congestionWindow);
        expect(cc.inConservativeSlowStart).toBe(true);
        expect(cc.inSlowStart).toBe(true);
      }
      for (let i = 1; i < windows.length; i++) {
        const prev = windows[i - 1] as number;
        // Each CSS round grows the window by a quarter of what was acknowledged.
        expect((windows[i] as number) - prev).toBeCloseTo(Math.floor(prev / MSS) * MSS / 4, 6);
      }
      // The fifth round boundary ends CSS: ssthresh = cwnd, congestion avoidance.
      now = round(cc, now, 60);
      expect(cc.inSlowStart).toBe(false);
      expect(cc.inConservativeSlowStart).toBe(false);
      expect(cc.slowStartThreshold).toBe(windows[4]);
      expect(cc.congestionWindow).toBeGreaterThanOrEqual(windows[4] as number);
      if (cc instanceof CubicController) {
        // No loss: the first avoidance stage starts at W_max = cwnd with K = 0.
        expect(cc.kSeconds).toBe(0);
        expect(cc.maxWindow).toBe(cc.slowStartThreshold);
      }
    }
  });

  it('goes back to slow start when the RTT falls below the CSS baseline', () => {
    const cc = new CubicController({ hyStart: true });
    let now = 0;
    for (let i = 0; i < 4; i++) now = round(cc, now, 50);
    now = round(cc, now, 60);
    expect(cc.inConservativeSlowStart).toBe(true);
    const w = cc.congestionWindow;
    now = round(cc, now, 50);
    expect(cc.inConservativeSlowStart).toBe(false);
    // Eight samples in CSS, then full slow-start growth again.
    const packets = Math.floor(w / MSS);
    expect(cc.congestionWindow).toBe(w + (8 * MSS) / 4 + (packets - 8) * MSS);
    now = round(cc, now, 50);
    expect(cc.inSlowStart).toBe(true);
  });

  it('ignores a rise smaller than the threshold', () => {
    for (const [next, css] of [
      [100, false],
      [100.2, true],
    ] as const) {
      const cc = new CubicController({ hyStart: true });
      let now = 0;
      for (let i = 0; i < 4; i++) now = round(cc, now, 80);
      // Threshold max(4, min(80/8, 16)) = 10 ms; a 9 ms rise is noise.
      now = round(cc, now, 89);
      expect(cc.inConservativeSlowStart).toBe(false);
      // Against 89 ms the threshold is 89/8 = 11.125 ms: CSS from 100.125 ms on.
      round(cc, now, next);
      expect(cc.inConservativeSlowStart).toBe(css);
    }
  });

  it('caps the threshold at 4 and 16 ms', () => {
    for (const [base, next, css] of [
      [10, 13.9, false],
      [10, 14, true],
      [200, 215.9, false],
      [200, 216, true],
    ] as const) {
      const cc = new NewRenoController({ hyStart: true });
      let now = 0;
      for (let i = 0; i < 3; i++) now = round(cc, now, base);
      round(cc, now, next);
      expect(cc.inConservativeSlowStart).toBe(css);
    }
  });

  it('stops for good at a congestion event', () => {
    const cc = new NewRenoController({ hyStart: true });
    let now = 0;
    for (let i = 0; i < 4; i++) now = round(cc, now, 50);
    now = round(cc, now, 60);
    expect(cc.inConservativeSlowStart).toBe(true);
    cc.onPacketSent(now, MSS, true);
    cc.onPacketsLost(now + 1, MSS, now, false);
    expect(cc.inConservativeSlowStart).toBe(false);
    expect(cc.inSlowStart).toBe(false);
    // After persistent congestion slow start is the standard one, however the RTT moves.
    cc.onPacketSent(now + 2, MSS, true);
    cc.onPacketsLost(now + 3, MSS, now + 2, true);
    now += 3;
    for (let i = 0; i < 3; i++) now = round(cc, now, 50 + 20 * i);
    expect(cc.congestionWindow).toBe(2400 * 8);
  });

  it('needs eight samples in a round before judging it', () => {
    const hs = new HyStartPlusPlus();
    // Round 1 at 50 ms, eight samples.
    for (let i = 0; i < 8; i++) hs.onAck(100 + i, MSS, 0, 50);
    // Round 2 at 100 ms: seven samples are not enough, the eighth decides.
    for (let i = 0; i < 7; i++) expect(hs.onAck(300 + i, MSS, 200, 100)).toBe(MSS);
    expect(hs.inConservativeSlowStart).toBe(false);
    expect(hs.onAck(307, MSS, 200, 100)).toBe(MSS);
    expect(hs.inConservativeSlowStart).toBe(true);
    expect(hs.onAck(308, MSS, 200, 100)).toBe(MSS / 4);
  });
});
