import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { StreamRecvBuffer } from '../../src/transport/stream-recv-buffer.js';
import { QuicError, TransportError } from '../../src/transport/errors.js';

function pattern(n: number, seed = 0): Uint8Array {
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) b[i] = (i * 131 + seed * 7 + (i >> 8)) & 0xff;
  return b;
}

function codeOf(f: () => unknown): number | undefined {
  try {
    f();
  } catch (e) {
    return e instanceof QuicError ? e.code : -1;
  }
  return undefined;
}

describe('StreamRecvBuffer', () => {
  it('reassembles out-of-order, duplicated and overlapping segments exactly once', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 20000 }),
        fc.array(fc.tuple(fc.nat(), fc.nat()), { minLength: 1, maxLength: 40 }),
        fc.integer({ min: 16, max: 4096 }),
        (total, cuts, initialCap) => {
          const data = pattern(total);
          // Segments: random ranges plus a covering set so everything arrives eventually.
          const segs: Array<[number, number]> = cuts.map(([a, b]) => {
            const s = a % total;
            return [s, Math.min(total, s + 1 + (b % 3000))];
          });
          for (let o = 0; o < total; o += 1000) segs.push([o, Math.min(total, o + 1000)]);
          segs.sort((x, y) => ((x[0] * 7919 + y[1]) % 5) - 2);
          const r = new StreamRecvBuffer(initialCap);
          const out: Uint8Array[] = [];
          for (const [s, e] of segs) {
            r.insert(s, data.subarray(s, e), e === total);
            if (r.readable > 0 && (s & 1) === 0) out.push(r.read(r.readable));
          }
          out.push(r.read());
          const got = new Uint8Array(out.reduce((n, b) => n + b.length, 0));
          let o = 0;
          for (const b of out) (got.set(b, o), (o += b.length));
          expect(got.length).toBe(total);
          expect(Buffer.compare(got, data)).toBe(0);
          expect(r.isFinished).toBe(true);
        },
      ),
      { numRuns: 150 },
    );
  });

  it('keeps the first copy of a byte when a later overlapping segment differs', () => {
    const r = new StreamRecvBuffer(16);
    r.insert(2, Uint8Array.of(1, 1, 1), false);
    r.insert(0, Uint8Array.of(9, 9, 9, 9, 9, 9), false);
    expect([...r.read()]).toEqual([9, 9, 1, 1, 1, 9]);
  });

  it('reports the flow-control increment from the highest offset', () => {
    const r = new StreamRecvBuffer();
    expect(r.insert(100, new Uint8Array(50), false)).toBe(150);
    expect(r.insert(0, new Uint8Array(100), false)).toBe(0);
    expect(r.insert(140, new Uint8Array(20), false)).toBe(10);
    expect(r.highestOffset).toBe(160);
  });

  it('enforces the final size rules of RFC 9000 §4.5', () => {
    const r = new StreamRecvBuffer();
    r.insert(0, new Uint8Array(10), true);
    expect(r.finalSize).toBe(10);
    expect(codeOf(() => r.insert(5, new Uint8Array(10), false))).toBe(TransportError.FINAL_SIZE_ERROR);
    expect(codeOf(() => r.insert(0, new Uint8Array(5), true))).toBe(TransportError.FINAL_SIZE_ERROR);
    expect(codeOf(() => r.insert(0, new Uint8Array(10), true))).toBeUndefined();

    const s = new StreamRecvBuffer();
    s.insert(0, new Uint8Array(20), false);
    expect(codeOf(() => s.insert(0, new Uint8Array(10), true))).toBe(TransportError.FINAL_SIZE_ERROR);
    expect(codeOf(() => s.setFinalSizeFromReset(15))).toBe(TransportError.FINAL_SIZE_ERROR);
    expect(s.setFinalSizeFromReset(30)).toBe(10);
    expect(codeOf(() => s.setFinalSizeFromReset(31))).toBe(TransportError.FINAL_SIZE_ERROR);
  });

  it('accepts a zero-length FIN at the end and data entirely below the read offset', () => {
    const r = new StreamRecvBuffer();
    r.insert(0, pattern(8), false);
    expect(r.read().length).toBe(8);
    expect(r.insert(0, pattern(8), false)).toBe(0);
    r.insert(8, new Uint8Array(0), true);
    expect(r.isFinished).toBe(true);
  });

  it('reads into a caller buffer across stored segments', () => {
    const r = new StreamRecvBuffer(16);
    const data = pattern(40);
    r.insert(0, data.subarray(0, 12), false);
    expect(r.skip(10)).toBe(10);
    r.insert(12, data.subarray(12, 24), false); // wraps in a 16-byte ring
    const dst = new Uint8Array(20);
    expect(r.readInto(dst, 3, 14)).toBe(14);
    expect([...dst.subarray(3, 17)]).toEqual([...data.subarray(10, 24)]);
  });
});
