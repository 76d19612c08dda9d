import { describe, it, expect } from 'vitest';
import { createHash } from 'node:crypto';
import { makePair, payload, transfer } from '../support/quic-pair.js';
import type { LinkOptions } from '../support/sim-network.js';

const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

const cases: Array<[string, LinkOptions, number]> = [
  ['5% loss', { delay: 10, loss: 0.05 }, 1 << 20],
  ['30% loss', { delay: 10, loss: 0.3 }, 1 << 20],
  ['reordering + duplication', { delay: 10, jitter: 8, duplicate: 0.05, reorder: 0.05, reorderDelay: 15 }, 1 << 20],
  ['1% corruption', { delay: 10, corrupt: 0.01 }, 1 << 20],
  ['200 ms RTT', { delay: 100, loss: 0.01 }, 1 << 20],
];

describe('transfers under impairment', () => {
  for (const [name, link, size] of cases) {
    it(`moves ${size >> 20} MB byte-exact with ${name}`, async () => {
      const pair = await makePair({ link, seed: 42 });
      const data = payload(size);
      const t0 = performance.now();
      const r = transfer(pair, data);
      console.log(name, (performance.now() - t0).toFixed(0), 'ms real', r.simulatedMs.toFixed(0), 'ms sim', JSON.stringify(pair.net.stats));
      expect(r.ok).toBe(true);
      expect(r.received.length).toBe(data.length);
      expect(sha(r.received)).toBe(sha(data));
    });
  }
});
