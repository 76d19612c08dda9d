import { describe, it, expect } from 'vitest';
import { RttEstimator } from '../../src/transport/rtt.js';

describe('RttEstimator (RFC 9002 §5)', () => {
  it('starts from the initial RTT and takes the first sample whole', () => {
    const r = new RttEstimator(333);
    expect(r.smoothedRtt).toBe(333);
    expect(r.rttVar).toBe(166.5);
    expect(r.ptoBase()).toBe(333 + 4 * 166.5);
    r.update(100, 10, false, 25);
    expect(r.smoothedRtt).toBe(100);
    expect(r.rttVar).toBe(50);
    expect(r.minRtt).toBe(100);
  });

  it('subtracts ack delay only when the sample stays above min_rtt', () => {
    const r = new RttEstimator(333);
    r.update(100, 0, true, 25);
    r.update(120, 10, true, 25); // 120 >= 100 + 10 → adjusted 110
    expect(r.smoothedRtt).toBeCloseTo(0.875 * 100 + 0.125 * 110, 10);
    expect(r.rttVar).toBeCloseTo(0.75 * 50 + 0.25 * 10, 10);
    const before = r.smoothedRtt;
    r.update(105, 10, true, 25); // 105 < 100 + 10 → not adjusted
    expect(r.smoothedRtt).toBeCloseTo(0.875 * before + 0.125 * 105, 10);
  });

  it('caps the ack delay at max_ack_delay once the handshake is confirmed', () => {
    const a = new RttEstimator(333);
    a.update(100, 0, true, 25);
    a.update(300, 200, true, 25); // capped to 25 → adjusted 275
    expect(a.smoothedRtt).toBeCloseTo(0.875 * 100 + 0.125 * 275, 10);
    const b = new RttEstimator(333);
    b.update(100, 0, false, 25);
    b.update(300, 200, false, 25); // not confirmed: 300 >= 100 + 200 → adjusted 100
    expect(b.smoothedRtt).toBeCloseTo(100, 10);
  });

  it('tracks the minimum and re-learns it after persistent congestion', () => {
    const r = new RttEstimator(333);
    r.update(50, 0, true, 25);
    r.update(80, 0, true, 25);
    expect(r.minRtt).toBe(50);
    r.resetMinRtt();
    expect(r.minRtt).toBe(80);
    expect(r.ptoBase()).toBeGreaterThanOrEqual(r.smoothedRtt + RttEstimator.GRANULARITY);
  });
});
