import { describe, it, expect } from 'vitest';
import {
  CONGESTION_ALGORITHMS,
  CubicController,
  NewRenoController,
  createCongestionController,
} from '../../src/congestion/index.js';
import type { CongestionAlgorithm } from '../../src/congestion/index.js';

describe('createCongestionController', () => {
  it('builds each algorithm by name with the settings given', () => {
    expect(CONGESTION_ALGORITHMS).toEqual(['cubic', 'newreno']);
    const cubic = createCongestionController('cubic', { maxDatagramSize: 1400, initialWindowPackets: 20 });
    expect(cubic).toBeInstanceOf(CubicController);
    expect(cubic.algorithm).toBe('cubic');
    expect(cubic.congestionWindow).toBe(28000);
    const reno = createCongestionController('newreno', { minimumWindowPackets: 4 });
    expect(reno).toBeInstanceOf(NewRenoController);
    expect(reno.algorithm).toBe('newreno');
    expect(reno.congestionWindow).toBe(12000);
    expect(reno.minimumWindow).toBe(4800);
  });

  it('passes CUBIC its own settings', () => {
    const cc = createCongestionController('cubic', { initialWindowPackets: 100, fastConvergence: false }) as CubicController;
    cc.onPacketSent(0, 1200, true);
    cc.onPacketsLost(0, 1200, 0, false);
    cc.onPacketSent(1, 1200, true);
    cc.onPacketsLost(2, 1200, 1, false);
    // Without fast convergence W_max is the window at the second loss.
    expect(cc.maxWindow).toBe(84000);
  });

  it('rejects an unknown name with a TypeError naming it', () => {
    expect(() => createCongestionController('bbr' as CongestionAlgorithm)).toThrow(TypeError);
    expect(() => createCongestionController('Reno' as CongestionAlgorithm)).toThrow(/"Reno"/);
  });
});
