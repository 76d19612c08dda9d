import { describe, it, expect } from 'vitest';
import { createHash } from 'node:crypto';
import { makePair, payload, transfer } from '../support/quic-pair.js';

const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

describe('stream transfer over the simulated network', () => {
  it('moves 1 MB byte-exact on a clean path', async () => {
    const pair = await makePair();
    const data = payload(1 << 20);
    const t0 = performance.now();
    const r = transfer(pair, data);
    console.log('1MB clean', (performance.now() - t0).toFixed(0), 'ms real', r.simulatedMs.toFixed(0), 'ms simulated', pair.net.stats);
    expect(r.ok).toBe(true);
    expect(sha(r.received)).toBe(sha(data));
  });
});
