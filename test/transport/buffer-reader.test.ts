import { describe, expect, it } from 'vitest';
import { BufferReader } from '../../src/transport/buffer-reader.js';
import { QuicError, TransportError } from '../../src/transport/errors.js';
import { fromHex } from '../../src/util/bytes.js';

function codeOf(fn: () => unknown): [number, number | undefined] {
  try {
    fn();
  } catch (e) {
    if (e instanceof QuicError) return [e.code, e.frameType];
    throw e;
  }
  throw new Error('nothing thrown');
}

describe('BufferReader', () => {
  it('reads fixed-size integers, varints and views within its window', () => {
    const buf = fromHex('ff 01 0203 04050607 4025 aabbcc ee');
    const r = new BufferReader(buf, 1, buf.length - 1);
    expect(r.u8()).toBe(1);
    expect(r.u16()).toBe(0x0203);
    expect(r.u32()).toBe(0x04050607);
    expect(r.varint()).toBe(37);
    const view = r.bytes(2);
    expect(Array.from(view)).toEqual([0xaa, 0xbb]);
    expect(view.buffer).toBe(buf.buffer);
    expect(r.remaining).toBe(1);
    expect(Array.from(r.rest())).toEqual([0xcc]);
    expect(r.remaining).toBe(0);
  });

  it('reads u32 values above 2^31 as unsigned', () => {
    expect(new BufferReader(fromHex('ffffffff')).u32()).toBe(0xffffffff);
  });

  it('never reads past its end: every read fails with the configured code and frame type', () => {
    const buf = fromHex('0102030405');
    const reads: ((r: BufferReader) => unknown)[] = [
      (r) => r.u8(),
      (r) => r.u16(),
      (r) => r.u32(),
      (r) => r.varint(),
      (r) => r.varintBig(),
      (r) => r.bytes(1),
      (r) => r.skip(1),
    ];
    for (const read of reads) {
      const r = new BufferReader(buf, 2, 2, TransportError.TRANSPORT_PARAMETER_ERROR);
      r.frameType = 0x1c;
      expect(codeOf(() => read(r))).toEqual([TransportError.TRANSPORT_PARAMETER_ERROR, 0x1c]);
      expect(r.pos).toBe(2);
    }
    const r = new BufferReader(buf, 0, 3);
    expect(codeOf(() => r.bytes(4))).toEqual([TransportError.FRAME_ENCODING_ERROR, undefined]);
    expect(codeOf(() => r.bytes(Number.MAX_SAFE_INTEGER))).toEqual([TransportError.FRAME_ENCODING_ERROR, undefined]);
  });

  it('varintAtMost checks limits exactly, including above 2^53', () => {
    const r = new BufferReader(fromHex('d000000000000001 d000000000000000 05'));
    expect(codeOf(() => r.varintAtMost(1n << 60n, 'too big'))).toEqual([TransportError.FRAME_ENCODING_ERROR, undefined]);
    expect(r.varintAtMost(1n << 60n, 'too big')).toBe(Number.MAX_SAFE_INTEGER);
    expect(codeOf(() => r.varintAtMost(4n, 'too big'))).toEqual([TransportError.FRAME_ENCODING_ERROR, undefined]);
  });

  it('can be reset onto new input and rejects windows outside the buffer', () => {
    const r = new BufferReader(fromHex('01'));
    r.frameType = 7;
    r.reset(fromHex('0203'), 1);
    expect(r.frameType).toBeUndefined();
    expect(r.u8()).toBe(3);
    expect(() => r.reset(fromHex('02'), 0, 2)).toThrow(RangeError);
    expect(() => new BufferReader(fromHex('02'), 2, 1)).toThrow(RangeError);
  });
});
