import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { RangeSet } from '../../src/transport/range-set.js';

/** Checks the structural invariant: sorted, disjoint, non-adjacent, non-empty ranges. */
function assertCanonical(r: RangeSet): void {
  for (let i = 0; i < r.rangeCount; i++) {
    expect(r.start(i)).toBeLessThan(r.end(i));
    if (i > 0) expect(r.end(i - 1)).toBeLessThan(r.start(i));
  }
}

function members(r: RangeSet): number[] {
  const out: number[] = [];
  for (const [s, e] of r.toArray()) for (let v = s; v < e; v++) out.push(v);
  return out;
}

describe('RangeSet', () => {
  it('appends in-order values into one range', () => {
    const r = new RangeSet();
    for (let i = 0; i < 100; i++) expect(r.addOne(i)).toBe(true);
    expect(r.toArray()).toEqual([[0, 100]]);
    expect(r.addOne(50)).toBe(false);
    expect(r.max).toBe(99);
    expect(r.min).toBe(0);
  });

  it('merges a gap filler with both neighbours', () => {
    const r = new RangeSet();
    r.add(0, 5);
    r.add(10, 15);
    r.add(20, 25);
    expect(r.add(4, 21)).toBe(10); // 5..10 and 15..20 are new
    expect(r.toArray()).toEqual([[0, 25]]);
  });

  it('answers contiguousEnd for reassembly', () => {
    const r = new RangeSet();
    r.add(0, 100);
    r.add(200, 300);
    expect(r.contiguousEnd(0)).toBe(100);
    expect(r.contiguousEnd(150)).toBe(150);
    expect(r.contiguousEnd(250)).toBe(300);
    expect(r.covers(210, 300)).toBe(true);
    expect(r.covers(90, 210)).toBe(false);
  });

  it('removes, splits and prunes', () => {
    const r = new RangeSet();
    r.add(0, 100);
    r.remove(10, 20);
    expect(r.toArray()).toEqual([[0, 10], [20, 100]]);
    r.removeBelow(50);
    expect(r.toArray()).toEqual([[50, 100]]);
    r.add(200, 210);
    r.add(300, 310);
    r.limitRanges(2);
    expect(r.toArray()).toEqual([[200, 210], [300, 310]]);
  });

  it('behaves like a plain set under random operations', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            op: fc.constantFrom('add', 'remove', 'removeBelow'),
            a: fc.integer({ min: 0, max: 200 }),
            len: fc.integer({ min: 0, max: 30 }),
          }),
          { maxLength: 60 },
        ),
        (ops) => {
          const r = new RangeSet();
          const model = new Set<number>();
          for (const { op, a, len } of ops) {
            if (op === 'add') {
              let fresh = 0;
              for (let v = a; v < a + len; v++) if (!model.has(v)) (model.add(v), fresh++);
              expect(r.add(a, a + len)).toBe(fresh);
            } else if (op === 'remove') {
              for (let v = a; v < a + len; v++) model.delete(v);
              r.remove(a, a + len);
            } else {
              for (const v of [...model]) if (v < a) model.delete(v);
              r.removeBelow(a);
            }
            assertCanonical(r);
          }
          expect(members(r)).toEqual([...model].sort((x, y) => x - y));
          expect(r.count).toBe(model.size);
          for (let v = 0; v < 240; v++) expect(r.has(v)).toBe(model.has(v));
        },
      ),
      { numRuns: 300 },
    );
  });
});
