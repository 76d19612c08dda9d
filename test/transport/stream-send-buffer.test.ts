import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { StreamSendBuffer } from '../../src/transport/stream-send-buffer.js';
import { StreamRecvBuffer } from '../../src/transport/stream-recv-buffer.js';

function pattern(n: number): Uint8Array {
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) b[i] = (i * 31 + (i >> 9)) & 0xff;
  return b;
}

interface Seg {
  offset: number;
  length: number;
  fin: boolean;
  bytes: Uint8Array;
}

function takeOne(s: StreamSendBuffer, room: number, limit: number): Seg | undefined {
  const off = s.peek(limit);
  if (off < 0) return undefined;
  const len = s.take(off, room, limit);
  const bytes = new Uint8Array(len);
  s.copyOut(off, len, bytes, 0);
  return { offset: off, length: len, fin: s.takenFin, bytes };
}

describe('StreamSendBuffer', () => {
  it('sends chunks in order across chunk boundaries and ends with the FIN', () => {
    const s = new StreamSendBuffer();
    const data = pattern(5000);
    s.write(data.subarray(0, 100));
    s.write(data.subarray(100, 3000));
    s.write(data.subarray(3000), true);
    const segs: Seg[] = [];
    for (let g = takeOne(s, 1200, Infinity); g; g = takeOne(s, 1200, Infinity)) segs.push(g);
    expect(segs.map((g) => g.length)).toEqual([1200, 1200, 1200, 1200, 200]);
    expect(segs.map((g) => g.fin)).toEqual([false, false, false, false, true]);
    expect(Buffer.compare(Buffer.concat(segs.map((g) => g.bytes)), data)).toBe(0);
  });

  it('respects the flow-control limit for new data', () => {
    const s = new StreamSendBuffer();
    s.write(pattern(1000), true);
    const a = takeOne(s, 1200, 300)!;
    expect([a.offset, a.length, a.fin]).toEqual([0, 300, false]);
    expect(s.peek(300)).toBe(-1);
    const b = takeOne(s, 1200, 2000)!;
    expect([b.offset, b.length, b.fin]).toEqual([300, 700, true]);
  });

  it('sends a lone FIN when the FIN is queued after all data went out, and resends it when lost', () => {
    const s = new StreamSendBuffer();
    s.write(pattern(10));
    const a = takeOne(s, 100, Infinity)!;
    expect(a.fin).toBe(false);
    s.write(new Uint8Array(0), true);
    const f = takeOne(s, 100, Infinity)!;
    expect([f.offset, f.length, f.fin]).toEqual([10, 0, true]);
    expect(s.peek(Infinity)).toBe(-1);
    s.onLost(10, 0, true);
    const g = takeOne(s, 100, Infinity)!;
    expect([g.offset, g.length, g.fin]).toEqual([10, 0, true]);
    s.onAcked(0, 10, false);
    s.onAcked(10, 0, true);
    expect(s.isAllAcked).toBe(true);
  });

  it('resends lost ranges first, minus what was acknowledged meanwhile', () => {
    const s = new StreamSendBuffer();
    s.write(pattern(4000));
    const segs = [takeOne(s, 1000, Infinity)!, takeOne(s, 1000, Infinity)!, takeOne(s, 1000, Infinity)!];
    s.onAcked(1200, 300, false); // part of the second segment arrived (e.g. an earlier retransmission)
    s.onLost(segs[1]!.offset, segs[1]!.length, false);
    const r1 = takeOne(s, 1000, Infinity)!;
    const r2 = takeOne(s, 1000, Infinity)!;
    expect([r1.offset, r1.length]).toEqual([1000, 200]);
    expect([r2.offset, r2.length]).toEqual([1500, 500]);
    const n = takeOne(s, 1000, Infinity)!;
    expect(n.offset).toBe(3000);
    expect(s.unackedBytes).toBe(4000 - 300);
  });

  it('delivers the exact stream through random loss, acks and reordering', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 30000 }), fc.array(fc.nat(99), { minLength: 50, maxLength: 400 }), (total, dice) => {
        const data = pattern(total);
        const s = new StreamSendBuffer();
        let w = 0;
        let d = 0;
        const roll = () => dice[d++ % dice.length]!;
        while (w < total) {
          const n = Math.min(total - w, 1 + roll() * 37);
          s.write(data.subarray(w, w + n));
          w += n;
        }
        s.write(new Uint8Array(0), true);
        const r = new StreamRecvBuffer(64);
        const inFlight: Seg[] = [];
        for (let step = 0; step < 100000 && !s.isAllAcked; step++) {
          const g = takeOne(s, 200 + roll() * 10, Infinity);
          if (g) inFlight.push(g);
          if (inFlight.length > 0 && (!g || roll() < 40)) {
            const k = roll() % inFlight.length;
            const seg = inFlight.splice(k, 1)[0]!;
            if (roll() < 25) s.onLost(seg.offset, seg.length, seg.fin);
            else {
              r.insert(seg.offset, seg.bytes, seg.fin);
              s.onAcked(seg.offset, seg.length, seg.fin);
            }
          }
        }
        expect(s.isAllAcked).toBe(true);
        const got = r.read();
        expect(r.isFinished).toBe(true);
        expect(Buffer.compare(got, data)).toBe(0);
      }),
      { numRuns: 100 },
    );
  });
});
