import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { createHash } from 'node:crypto';
import {
  BODY_PATTERN_MAX_VIEW,
  BODY_PATTERN_PERIOD,
  BodyPatternChecker,
  bodyPatternByte,
  bodyPatternSha256,
  bodyPatternView,
} from '../../src/apps/body-pattern.js';

function reference(offset: number, length: number): Uint8Array {
  const out = new Uint8Array(length);
  for (let i = 0; i < length; i++) out[i] = bodyPatternByte(offset + i);
  return out;
}

/** Byte equality without a deep-equality walk (fast on large arrays). */
function same(a: Uint8Array, b: Uint8Array): boolean {
  return Buffer.compare(a, b) === 0;
}

describe('generated body pattern', () => {
  it('repeats with its prime period and is not constant', () => {
    expect(BODY_PATTERN_PERIOD).toBe(65521);
    for (const i of [0, 1, 100, 65520]) expect(bodyPatternByte(i + BODY_PATTERN_PERIOD)).toBe(bodyPatternByte(i));
    const distinct = new Set(reference(0, 4096));
    expect(distinct.size).toBeGreaterThan(200);
  });

  it('gives correct views everywhere, including the longest views that wrap the period', () => {
    // The worst case: a maximal view starting at the last byte of the period ends deep in the tail.
    for (const start of [0, 1, BODY_PATTERN_PERIOD - 100, BODY_PATTERN_PERIOD - 16, BODY_PATTERN_PERIOD - 1, BODY_PATTERN_PERIOD, 5 * BODY_PATTERN_PERIOD - 1]) {
      expect(same(bodyPatternView(start, BODY_PATTERN_MAX_VIEW), reference(start, BODY_PATTERN_MAX_VIEW))).toBe(true);
    }
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 10_000_000 }), fc.integer({ min: 0, max: BODY_PATTERN_MAX_VIEW }), (off, len) => {
        expect(same(bodyPatternView(off, len), reference(off, len))).toBe(true);
      }),
      { numRuns: 100 },
    );
  });

  it('refuses views longer than the maximum', () => {
    expect(() => bodyPatternView(0, BODY_PATTERN_MAX_VIEW + 1)).toThrow(RangeError);
  });

  it('hashes what bodyPatternByte describes', () => {
    const n = 200_000;
    expect(bodyPatternSha256(n)).toBe(createHash('sha256').update(reference(0, n)).digest('hex'));
  });
});

describe('BodyPatternChecker', () => {
  const N = 400_000;
  const body = reference(0, N);

  it('accepts the pattern however it is split, including splits at period boundaries', () => {
    const cuts = [1, 262069, 262070, 327604, 327605, 327606, 393126];
    const c = new BodyPatternChecker();
    let prev = 0;
    for (const cut of [...cuts, N]) {
      c.update(body.subarray(prev, cut));
      prev = cut;
    }
    expect(c.ok).toBe(true);
    expect(c.offset).toBe(N);
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: N - 1 }), { maxLength: 20 }), (points) => {
        const k = new BodyPatternChecker();
        let p0 = 0;
        for (const p of [...new Set(points)].sort((a, b) => a - b).concat(N)) {
          k.update(body.subarray(p0, p));
          p0 = p;
        }
        expect(k.firstMismatch).toBe(-1);
      }),
      { numRuns: 50 },
    );
  });

  it('reports the offset of the first wrong byte', () => {
    const bad = body.slice();
    bad[327605] = bad[327605]! ^ 1;
    bad[390000] = bad[390000]! ^ 1;
    const c = new BodyPatternChecker();
    c.update(bad.subarray(0, 300_000));
    c.update(bad.subarray(300_000));
    expect(c.ok).toBe(false);
    expect(c.firstMismatch).toBe(327605);
  });
});
