import { describe, it, expect } from 'vitest';
import { createCongestionController } from '../../src/congestion/index.js';
import { Pacer } from '../../src/congestion/pacer.js';
import type { CongestionAlgorithm } from '../../src/congestion/controller.js';
import { runBottleneck } from './bottleneck-link.js';

// 12 kB/ms (96 Mbit/s) with 20 ms of propagation delay: a bandwidth-delay product of
// 240 kB, 200 packets of 1200 bytes.
const RATE = 12_000;
const RTT = 20;
const BDP = RATE * RTT;

function run(algorithm: CongestionAlgorithm, buffer: number, paced: boolean) {
  const cc = createCongestionController(algorithm);
  const result = runBottleneck(cc, {
    rate: RATE,
    buffer,
    propagationRtt: RTT,
    duration: 20_000,
    step: 0.1,
    packetSize: 1200,
    ...(paced ? { pacer: new Pacer() } : {}),
  });
  return { cc, result };
}

describe.each(['newreno', 'cubic'] as const)('%s through a simulated bottleneck', (algorithm) => {
  it.each([false, true])('fills a BDP-buffered link without collapsing (paced: %s)', (paced) => {
    const { cc, result } = run(algorithm, BDP, paced);
    expect(result.drops).toBeGreaterThan(0); // it did probe for the limit
    expect(result.ackedSecondHalf / result.capacitySecondHalf).toBeGreaterThan(0.97);
    // Losses only ever cut the window to about the BDP, never near the minimum.
    expect(result.minCwndAfterFirstLoss).toBeGreaterThan(0.9 * BDP);
    // ACKs keep coming: no stall beyond a round trip plus the full queue.
    expect(result.longestAckGap).toBeLessThanOrEqual(2 * RTT + 1);
    // The window stays within what the path and buffer hold (plus slow start's overshoot).
    const last = result.cwndTrace.slice(result.cwndTrace.length / 2);
    for (const [, cwnd] of last) expect(cwnd).toBeLessThan(2.5 * BDP);
    expect(cc.congestionWindow).toBeGreaterThan(cc.minimumWindow);
  });

  it('keeps most of a link whose buffer is a quarter of the BDP', () => {
    const { result } = run(algorithm, BDP / 4, false);
    expect(result.ackedSecondHalf / result.capacitySecondHalf).toBeGreaterThan(algorithm === 'cubic' ? 0.95 : 0.85);
    expect(result.minCwndAfterFirstLoss).toBeGreaterThan(0.5 * BDP);
  });
});

describe('CUBIC against NewReno on a shallow buffer', () => {
  it('uses more of the link, since it backs off by 0.7 instead of 0.5', () => {
    const cubic = run('cubic', BDP / 4, false).result;
    const reno = run('newreno', BDP / 4, false).result;
    expect(cubic.ackedSecondHalf).toBeGreaterThan(reno.ackedSecondHalf * 1.05);
  });
});
