import { describe, it, expect } from 'vitest';
import { NewRenoController } from '../../src/congestion/new-reno.js';
import { fixedRtt, roundTrip } from './drive.js';

const RTT = fixedRtt(100);

/** A controller that slow-started to `packets` packets of 1200 bytes, nothing in flight, at t = returned. */
function grownTo(packets: number): { cc: NewRenoController; now: number } {
  const cc = new NewRenoController();
  let now = 0;
  while (cc.congestionWindow < packets * 1200) now = roundTrip(cc, now, RTT);
  expect(cc.congestionWindow).toBe(packets * 1200);
  return { cc, now };
}

describe('NewReno windows (RFC 9002 §7.2)', () => {
  it('starts at kInitialWindow = min(10 × size, max(14720, 2 × size))', () => {
    expect(new NewRenoController().congestionWindow).toBe(12000);
    expect(new NewRenoController({ maxDatagramSize: 1500 }).congestionWindow).toBe(14720);
    expect(new NewRenoController({ maxDatagramSize: 9000 }).congestionWindow).toBe(18000);
    expect(new NewRenoController().minimumWindow).toBe(2400);
    expect(new NewRenoController().slowStartThreshold).toBe(Infinity);
  });

  it('takes the initial and minimum windows in packets when configured', () => {
    const cc = new NewRenoController({ maxDatagramSize: 1400, initialWindowPackets: 32, minimumWindowPackets: 4 });
    expect(cc.congestionWindow).toBe(32 * 1400);
    expect(cc.minimumWindow).toBe(4 * 1400);
  });

  it('rejects settings that make no sense, naming them', () => {
    expect(() => new NewRenoController({ maxDatagramSize: 1000 })).toThrow(/maxDatagramSize.*1000/);
    expect(() => new NewRenoController({ maxDatagramSize: 1300.5 })).toThrow(RangeError);
    expect(() => new NewRenoController({ initialWindowPackets: 0 })).toThrow(/initialWindowPackets/);
    expect(() => new NewRenoController({ minimumWindowPackets: 0 })).toThrow(/minimumWindowPackets/);
    expect(() => new NewRenoController({ initialWindowPackets: 2, minimumWindowPackets: 4 })).toThrow(RangeError);
  });
});

describe('NewReno bytes in flight', () => {
  it('counts in-flight packets only, and frees them on ACK, loss and discard', () => {
    const cc = new NewRenoController();
    cc.onPacketSent(0, 1200, true);
    cc.onPacketSent(0, 50, false); // ACK-only
    cc.onPacketSent(0, 1200, true);
    cc.onPacketSent(0, 1000, true);
    expect(cc.bytesInFlight).toBe(3400);
    expect(cc.sendAllowance).toBe(12000 - 3400);
    cc.onAck(100, 1200, 0, RTT, false);
    expect(cc.bytesInFlight).toBe(2200);
    cc.onPacketsDiscarded(1000);
    expect(cc.bytesInFlight).toBe(1200);
    cc.onPacketsLost(200, 1200, 0, false);
    expect(cc.bytesInFlight).toBe(0);
  });

  it('allows a packet only if it fits in the window', () => {
    const cc = new NewRenoController();
    for (let i = 0; i < 9; i++) cc.onPacketSent(0, 1200, true);
    expect(cc.canSend(1200)).toBe(true);
    expect(cc.canSend(1201)).toBe(false);
    cc.onPacketSent(0, 1200, true);
    expect(cc.canSend(1)).toBe(false);
    expect(cc.sendAllowance).toBe(0);
  });

  it('rejects accounting that would drive bytes in flight negative', () => {
    const cc = new NewRenoController();
    cc.onPacketSent(0, 1200, true);
    expect(() => cc.onAck(10, 2400, 0, RTT, false)).toThrow(/2400.*1200/);
    expect(() => cc.onPacketsLost(10, 1201, 0, false)).toThrow(RangeError);
    expect(() => cc.onPacketsDiscarded(-1)).toThrow(RangeError);
    expect(() => cc.onPacketSent(0, Number.NaN, true)).toThrow(RangeError);
    expect(cc.bytesInFlight).toBe(1200);
  });
});

describe('NewReno slow start and congestion avoidance', () => {
  it('doubles the window every round trip in slow start', () => {
    const cc = new NewRenoController();
    let now = 0;
    const windows = [cc.congestionWindow];
    for (let i = 0; i < 5; i++) {
      now = roundTrip(cc, now, RTT);
      windows.push(cc.congestionWindow);
    }
    expect(windows).toEqual([12000, 24000, 48000, 96000, 192000, 384000]);
    expect(cc.inSlowStart).toBe(true);
  });

  it('adds one datagram per window acknowledged in congestion avoidance', () => {
    const { cc, now: t0 } = grownTo(40);
    cc.onPacketSent(t0, 1200, true);
    cc.onPacketsLost(t0 + 10, 1200, t0, false); // → 24000
    expect(cc.congestionWindow).toBe(24000);
    // Sent strictly after the recovery period began, so their ACKs count.
    let now = t0 + 11;
    const windows: number[] = [];
    for (let i = 0; i < 4; i++) {
      now = roundTrip(cc, now, RTT);
      windows.push(cc.congestionWindow);
    }
    expect(windows).toEqual([25200, 26400, 27600, 28800]);
    expect(cc.inSlowStart).toBe(false);
  });
});

describe('NewReno congestion events and recovery (RFC 9002 §7.3.2, B.6)', () => {
  it('halves the window on loss and sets ssthresh to it', () => {
    const { cc, now } = grownTo(80);
    cc.onPacketSent(now, 1200, true);
    cc.onPacketsLost(now + 50, 1200, now, false);
    expect(cc.congestionWindow).toBe(48000);
    expect(cc.slowStartThreshold).toBe(48000);
    expect(cc.isRecovering).toBe(true);
    expect(cc.inRecovery(now)).toBe(true);
    expect(cc.inRecovery(now + 50)).toBe(true);
    expect(cc.inRecovery(now + 50.001)).toBe(false);
  });

  it('reduces once per recovery period, again for a packet sent after it began', () => {
    const { cc, now } = grownTo(80);
    for (let i = 0; i < 4; i++) cc.onPacketSent(now, 1200, true);
    cc.onPacketsLost(now + 50, 1200, now, false);
    expect(cc.congestionWindow).toBe(48000);
    // Another packet of the same flight: same recovery period.
    cc.onPacketsLost(now + 60, 1200, now, false);
    expect(cc.congestionWindow).toBe(48000);
    // ECN-CE for a packet of that flight: also inside the period.
    cc.onCongestionEvent(now + 70, now);
    expect(cc.congestionWindow).toBe(48000);
    // A packet sent after the period began is lost: a new event.
    cc.onPacketSent(now + 80, 1200, true);
    cc.onPacketsLost(now + 200, 1200, now + 80, false);
    expect(cc.congestionWindow).toBe(24000);
    expect(cc.slowStartThreshold).toBe(24000);
  });

  it('ends recovery with the first ACK of a packet sent after it began, and grows only then', () => {
    const { cc, now } = grownTo(80);
    for (let i = 0; i < 20; i++) cc.onPacketSent(now, 1200, true);
    cc.onPacketsLost(now + 50, 1200, now, false);
    // The rest of the old flight is acknowledged: still recovering, no growth.
    cc.onAck(now + 100, 12000, now, RTT, false);
    expect(cc.isRecovering).toBe(true);
    expect(cc.congestionWindow).toBe(48000);
    // New packets go out during recovery and their ACK ends it.
    for (let i = 0; i < 40; i++) cc.onPacketSent(now + 100, 1200, true);
    cc.onAck(now + 200, 48000, now + 100, RTT, false);
    expect(cc.isRecovering).toBe(false);
    expect(cc.congestionWindow).toBe(49200);
  });

  it('lets an ACK of no in-flight bytes end recovery without growing the window', () => {
    const { cc, now } = grownTo(80);
    cc.onPacketSent(now, 1200, true);
    cc.onPacketsLost(now + 50, 1200, now, false);
    cc.onAck(now + 150, 0, now + 60, RTT, false);
    expect(cc.isRecovering).toBe(false);
    expect(cc.congestionWindow).toBe(48000);
  });

  it('collapses to the minimum window on persistent congestion, then slow-starts', () => {
    const { cc, now } = grownTo(80);
    for (let i = 0; i < 10; i++) cc.onPacketSent(now, 1200, true);
    cc.onPacketsLost(now + 1000, 12000, now, true);
    expect(cc.congestionWindow).toBe(2400);
    expect(cc.slowStartThreshold).toBe(48000);
    expect(cc.isRecovering).toBe(false);
    expect(cc.inSlowStart).toBe(true);
    let t = now + 1000;
    t = roundTrip(cc, t, RTT);
    expect(cc.congestionWindow).toBe(4800);
    t = roundTrip(cc, t, RTT);
    expect(cc.congestionWindow).toBe(9600);
  });

  it('collapses even when the loss falls in a recovery period already under way', () => {
    const { cc, now } = grownTo(80);
    for (let i = 0; i < 10; i++) cc.onPacketSent(now, 1200, true);
    cc.onPacketsLost(now + 50, 1200, now, false);
    cc.onPacketsLost(now + 1000, 10800, now, true);
    expect(cc.congestionWindow).toBe(2400);
    expect(cc.slowStartThreshold).toBe(48000);
  });

  it('never goes below the minimum window', () => {
    const cc = new NewRenoController();
    let now = 0;
    for (let i = 0; i < 10; i++) {
      cc.onPacketSent(now, 1200, true);
      cc.onPacketsLost(now + 1, 1200, now, false);
      now += 2;
      expect(cc.congestionWindow).toBeGreaterThanOrEqual(2400);
    }
    expect(cc.congestionWindow).toBe(2400);
  });
});

describe('NewReno app-limited (RFC 9002 §7.8)', () => {
  it('does not grow in slow start or congestion avoidance while app-limited', () => {
    const cc = new NewRenoController();
    let now = roundTrip(cc, 0, RTT, true);
    expect(cc.congestionWindow).toBe(12000);
    now = roundTrip(cc, now, RTT, false);
    expect(cc.congestionWindow).toBe(24000);
    cc.onPacketSent(now, 1200, true);
    cc.onPacketsLost(now + 1, 1200, now, false);
    now += 1;
    for (let i = 0; i < 5; i++) now = roundTrip(cc, now, RTT, true);
    expect(cc.congestionWindow).toBe(12000);
    expect(cc.bytesInFlight).toBe(0);
    now = roundTrip(cc, now, RTT, false);
    expect(cc.congestionWindow).toBe(13200);
  });
});

describe('NewReno undo of a spurious congestion event', () => {
  it('restores the window and threshold from before the reduction, once', () => {
    const { cc, now } = grownTo(80);
    cc.onPacketSent(now, 1200, true);
    cc.onPacketsLost(now + 50, 1200, now, false);
    expect(cc.congestionWindow).toBe(48000);
    expect(cc.onSpuriousCongestionEvent()).toBe(true);
    expect(cc.congestionWindow).toBe(96000);
    expect(cc.slowStartThreshold).toBe(Infinity);
    expect(cc.isRecovering).toBe(false);
    expect(cc.inRecovery(now)).toBe(false);
    expect(cc.onSpuriousCongestionEvent()).toBe(false);
    expect(cc.congestionWindow).toBe(96000);
  });

  it('has nothing to undo after persistent congestion', () => {
    const { cc, now } = grownTo(80);
    cc.onPacketSent(now, 1200, true);
    cc.onPacketsLost(now + 1000, 1200, now, true);
    expect(cc.onSpuriousCongestionEvent()).toBe(false);
    expect(cc.congestionWindow).toBe(2400);
  });
});

describe('NewReno datagram size changes (RFC 9002 §7.2)', () => {
  it('recomputes an untouched initial window with the new size', () => {
    const cc = new NewRenoController();
    cc.setMaxDatagramSize(1500);
    expect(cc.congestionWindow).toBe(14720);
    expect(cc.minimumWindow).toBe(3000);
    expect(cc.maxDatagramSize).toBe(1500);
    cc.setMaxDatagramSize(1200);
    expect(cc.congestionWindow).toBe(12000);
  });

  it('keeps a grown window, grows by the new size, and rejects bad sizes', () => {
    const { cc, now } = grownTo(20);
    cc.onPacketSent(now, 1200, true);
    cc.onPacketsLost(now + 1, 1200, now, false);
    expect(cc.congestionWindow).toBe(12000);
    cc.setMaxDatagramSize(1500);
    expect(cc.congestionWindow).toBe(12000);
    expect(cc.minimumWindow).toBe(3000);
    // One window acknowledged in avoidance adds one new-size datagram.
    cc.onPacketSent(now + 2, 12000, true);
    cc.onAck(now + 102, 12000, now + 2, RTT, false);
    expect(cc.congestionWindow).toBe(13500);
    expect(() => cc.setMaxDatagramSize(1199)).toThrow(/1199/);
    expect(() => cc.setMaxDatagramSize(70000)).toThrow(RangeError);
  });
});
