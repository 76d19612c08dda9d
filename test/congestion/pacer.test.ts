import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { Pacer } from '../../src/congestion/pacer.js';

const MSS = 1200;

/** Sends `count` packets as soon as the pacer allows, starting at `start`; returns the send times. */
function sendPaced(p: Pacer, start: number, count: number, cwnd: number, srtt: number, size = MSS): number[] {
  const times: number[] = [];
  let now = start;
  for (let i = 0; i < count; i++) {
    let waits = 0;
    for (let d = p.timeUntilSend(now, size, cwnd, srtt); d > 0; d = p.timeUntilSend(now, size, cwnd, srtt)) {
      now += d;
      if (++waits > 2) throw new Error(`pacer still says wait after ${waits} waits at ${now}`);
    }
    p.onSent(now, size);
    times.push(now);
  }
  return times;
}

describe('Pacer (RFC 9002 §7.7)', () => {
  it('lets an initial burst of ten packets out at once, then spaces at 1.25 × cwnd / srtt', () => {
    const p = new Pacer();
    const cwnd = 100 * MSS; // 120 kB over 100 ms: 1500 B/ms paced
    const times = sendPaced(p, 0, 60, cwnd, 100);
    expect(times.slice(0, 10)).toEqual(new Array(10).fill(0));
    expect(times[10]).toBeGreaterThan(0);
    expect(p.pacingRate).toBeCloseTo(1.25 * cwnd / 100, 9);
    const interval = MSS / p.pacingRate; // 0.8 ms
    for (let i = 11; i < times.length; i++) {
      expect((times[i] as number) - (times[i - 1] as number)).toBeCloseTo(interval, 6);
    }
  });

  it('delivers the paced rate over a long run', () => {
    const p = new Pacer();
    const cwnd = 50 * MSS;
    const srtt = 40;
    const times = sendPaced(p, 0, 2000, cwnd, srtt);
    const elapsed = (times[times.length - 1] as number) - (times[10] as number);
    const rate = ((times.length - 11) * MSS) / elapsed;
    expect(rate).toBeCloseTo((1.25 * cwnd) / srtt, 3);
  });

  it('tells how long to wait and lets the packet go exactly then', () => {
    const p = new Pacer();
    sendPaced(p, 0, 10, 24000, 100); // empty the bucket; rate = 300 B/ms
    expect(p.timeUntilSend(0, MSS, 24000, 100)).toBeCloseTo(4, 9);
    expect(p.timeUntilSend(1, MSS, 24000, 100)).toBeCloseTo(3, 9);
    expect(p.timeUntilSend(4, MSS, 24000, 100)).toBe(0);
  });

  it('refills to at most the burst after idle', () => {
    const p = new Pacer();
    const times = sendPaced(p, 0, 30, 100 * MSS, 100);
    const idleStart = (times[29] as number) + 10_000;
    const after = sendPaced(p, idleStart, 20, 100 * MSS, 100);
    expect(after.filter((t) => t === idleStart)).toHaveLength(10);
    expect(after[10]).toBeGreaterThan(idleStart);
  });

  it('does not pace without an RTT estimate or a window', () => {
    const p = new Pacer();
    expect(sendPaced(p, 0, 50, 12000, 0)).toEqual(new Array(50).fill(0));
    expect(p.pacingRate).toBe(Infinity);
    expect(p.timeUntilSend(0, MSS, 0, 100)).toBe(0);
  });

  it('widens the burst to one timer tick at high rates, never beyond the window', () => {
    const p = new Pacer({ timerGranularity: 2 });
    // 1000 packets per 10 ms: 150 kB/ms paced, a 2 ms tick carries 300 kB.
    p.timeUntilSend(0, MSS, 1000 * MSS, 10);
    expect(p.burstCapacity).toBeCloseTo(2 * 1.25 * 1000 * MSS / 10, 6);
    p.timeUntilSend(0, MSS, 200 * MSS, 1);
    expect(p.burstCapacity).toBe(200 * MSS);
    p.timeUntilSend(0, MSS, 20 * MSS, 100);
    expect(p.burstCapacity).toBe(10 * MSS);
  });

  it('lets a packet larger than the burst go once the bucket is full', () => {
    const p = new Pacer({ burstPackets: 2 });
    const times = sendPaced(p, 0, 3, 12000, 100, 5000);
    expect(times[0]).toBe(0);
    expect(times[1]).toBeGreaterThan(0);
    expect(times[2]).toBeGreaterThan(times[1] as number);
  });

  it('forgives a send that bypassed it (a probe) instead of owing it', () => {
    const p = new Pacer();
    sendPaced(p, 0, 10, 12000, 100);
    for (let i = 0; i < 50; i++) p.onSent(0, MSS); // probes past the empty bucket
    expect(p.timeUntilSend(0, MSS, 12000, 100)).toBeCloseTo(MSS / (1.25 * 120), 9);
  });

  it('follows the maximum datagram size for its minimum burst', () => {
    const p = new Pacer({ maxDatagramSize: 1200 });
    p.setMaxDatagramSize(1500);
    p.timeUntilSend(0, 1500, 15000, 1000);
    expect(p.burstCapacity).toBe(15000);
    expect(() => p.setMaxDatagramSize(100)).toThrow(RangeError);
  });

  it('rejects bad settings, naming them', () => {
    expect(() => new Pacer({ burstPackets: 0 })).toThrow(/burstPackets/);
    expect(() => new Pacer({ gain: 0.5 })).toThrow(/gain/);
    expect(() => new Pacer({ timerGranularity: -1 })).toThrow(/timerGranularity/);
    expect(() => new Pacer({ maxDatagramSize: 500 })).toThrow(/maxDatagramSize/);
  });

  it('never stalls: waiting the delay it names always makes the next packet sendable', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 2400, max: 10_000_000 }),
        fc.double({ min: 0.05, max: 2000, noNaN: true }),
        fc.array(
          fc.record({
            size: fc.integer({ min: 1, max: 65527 }),
            gap: fc.double({ min: 0, max: 50, noNaN: true }),
          }),
          { minLength: 1, maxLength: 200 },
        ),
        fc.constantFrom(0, 1e6, 1.7e12),
        (cwnd, srtt, packets, start) => {
          const p = new Pacer();
          let now = start;
          for (const { size, gap } of packets) {
            now += gap;
            const d = p.timeUntilSend(now, size, cwnd, srtt);
            expect(d).toBeGreaterThanOrEqual(0);
            expect(Number.isFinite(d)).toBe(true);
            // Never longer than refilling a whole burst at the paced rate (give or take the
            // resolution of the clock value).
            expect(d).toBeLessThanOrEqual(p.burstCapacity / p.pacingRate + 4 * Number.EPSILON * now + 1e-9);
            now += d;
            expect(p.timeUntilSend(now, size, cwnd, srtt)).toBe(0);
            p.onSent(now, size);
          }
        },
      ),
      { numRuns: 300 },
    );
  });
});
