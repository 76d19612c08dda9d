import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BufferReader } from '../../src/transport/buffer-reader.js';
import { QuicError, TransportError } from '../../src/transport/errors.js';
import {
  VARINT_MAX,
  isNonMinimalVarintAt,
  readVarintAt,
  readVarintBigAt,
  varintLength,
  varintLengthBig,
  varintLengthFromFirstByte,
  writeVarint,
  writeVarintBig,
  writeVarintWithLength,
} from '../../src/transport/varint.js';
import { fromHex, toHex } from '../../src/util/bytes.js';

interface VarintVectors {
  varint_encodings: { prefix_bits: string; length: number; usable_bits: number; max: string }[];
  varint_decode: { bytes: string; value: string }[];
  derived: {
    varint_minimal_encode: { value: string; minimal_bytes: string }[];
    varint_non_minimal_decode: { bytes: string; value: string }[];
    varint_truncated_decode_errors: { bytes: string; why: string }[];
    varint_encode_errors: { value: string; why: string }[];
  };
}

const vectors = JSON.parse(
  readFileSync(new URL('../../../shared/vectors/rfc9000-varint.json', import.meta.url), 'utf8'),
) as VarintVectors;

function decodeBig(hex: string): bigint {
  const r = new BufferReader(fromHex(hex));
  const v = r.varintBig();
  expect(r.remaining).toBe(0);
  return v;
}

describe('varint vectors (RFC 9000 §16, Appendix A.1)', () => {
  it('decodes every RFC sample, exactly as bigint and saturating as number', () => {
    for (const { bytes, value } of vectors.varint_decode) {
      expect(decodeBig(bytes)).toBe(BigInt(value));
      const n = readVarintAt(fromHex(bytes), 0, bytes.length / 2);
      const expected = BigInt(value) > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : Number(value);
      expect(n).toBe(expected);
    }
  });

  it('follows the prefix/length table: each maximum fits its length, one more does not', () => {
    for (const row of vectors.varint_encodings) {
      const max = BigInt(row.max);
      expect(varintLengthBig(max)).toBe(row.length);
      const buf = new Uint8Array(8);
      const end = writeVarintBig(buf, 0, max);
      expect(end).toBe(row.length);
      expect(buf[0]! >> 6).toBe(Number.parseInt(row.prefix_bits, 2));
      expect(varintLengthFromFirstByte(buf[0]!)).toBe(row.length);
      if (row.length < 8) expect(varintLengthBig(max + 1n)).toBe(row.length * 2);
    }
  });

  it('encodes minimally at every boundary (derived vectors), with number and bigint writers', () => {
    for (const { value, minimal_bytes } of vectors.derived.varint_minimal_encode) {
      const big = BigInt(value);
      const buf = new Uint8Array(8);
      const end = writeVarintBig(buf, 0, big);
      expect(toHex(buf.subarray(0, end))).toBe(minimal_bytes);
      if (big <= BigInt(Number.MAX_SAFE_INTEGER)) {
        const buf2 = new Uint8Array(8);
        const end2 = writeVarint(buf2, 0, Number(big));
        expect(toHex(buf2.subarray(0, end2))).toBe(minimal_bytes);
        expect(varintLength(Number(big))).toBe(minimal_bytes.length / 2);
      }
      expect(decodeBig(minimal_bytes)).toBe(big);
    }
  });

  it('accepts non-minimal encodings and can tell they are non-minimal', () => {
    const all = [...vectors.derived.varint_non_minimal_decode, { bytes: '4025', value: '37' }];
    for (const { bytes, value } of all) {
      expect(decodeBig(bytes)).toBe(BigInt(value));
      const b = fromHex(bytes);
      expect(isNonMinimalVarintAt(b, 0, b.length)).toBe(true);
    }
    expect(isNonMinimalVarintAt(fromHex('25'), 0, 1)).toBe(false);
    expect(isNonMinimalVarintAt(fromHex('7bbd'), 0, 2)).toBe(false);
  });

  it('reports truncated input: -1 from readVarintAt, QuicError from the reader with its code', () => {
    for (const { bytes } of vectors.derived.varint_truncated_decode_errors) {
      const b = fromHex(bytes);
      expect(readVarintAt(b, 0, b.length)).toBe(-1);
      expect(readVarintBigAt(b, 0, b.length)).toBe(-1n);
      const r = new BufferReader(b);
      r.frameType = 0x06;
      let err: unknown;
      try {
        r.varint();
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(QuicError);
      expect((err as QuicError).code).toBe(TransportError.FRAME_ENCODING_ERROR);
      expect((err as QuicError).frameType).toBe(0x06);
      const r2 = new BufferReader(b, 0, b.length, TransportError.TRANSPORT_PARAMETER_ERROR);
      expect(() => r2.varintBig()).toThrow(expect.objectContaining({ code: TransportError.TRANSPORT_PARAMETER_ERROR }));
    }
  });

  it('refuses to encode values beyond 2^62-1 (and negatives, fractions, unsafe numbers)', () => {
    for (const { value } of vectors.derived.varint_encode_errors) {
      expect(() => writeVarintBig(new Uint8Array(8), 0, BigInt(value))).toThrow(RangeError);
      expect(() => varintLengthBig(BigInt(value))).toThrow(RangeError);
    }
    expect(() => writeVarintBig(new Uint8Array(8), 0, -1n)).toThrow(RangeError);
    expect(() => varintLength(-1)).toThrow(RangeError);
    expect(() => varintLength(1.5)).toThrow(RangeError);
    expect(() => varintLength(2 ** 53)).toThrow(RangeError);
    expect(() => varintLength(Number.NaN)).toThrow(RangeError);
  });
});

describe('varint writers', () => {
  it('write a placeholder of a fixed length and refuse values that do not fit it', () => {
    const buf = new Uint8Array(8);
    expect(writeVarintWithLength(buf, 0, 37, 2)).toBe(2);
    expect(toHex(buf.subarray(0, 2))).toBe('4025');
    expect(writeVarintWithLength(buf, 0, 37, 8)).toBe(8);
    expect(toHex(buf)).toBe('c000000000000025');
    expect(() => writeVarintWithLength(buf, 0, 16384, 2)).toThrow(RangeError);
    expect(() => writeVarintWithLength(buf, 0, 64, 1)).toThrow(RangeError);
  });

  it('never write past the end of the buffer', () => {
    const buf = new Uint8Array(3);
    expect(() => writeVarint(buf, 0, 16384)).toThrow(RangeError);
    expect(() => writeVarint(buf, 2, 64)).toThrow(RangeError);
    expect(() => writeVarintBig(buf, 0, 2n ** 40n)).toThrow(RangeError);
    expect(Array.from(buf)).toEqual([0, 0, 0]);
  });

  it('saturate 8-byte values above 2^53-1 when read as number', () => {
    const buf = new Uint8Array(8);
    writeVarintBig(buf, 0, 2n ** 53n);
    expect(readVarintAt(buf, 0, 8)).toBe(Number.MAX_SAFE_INTEGER);
    writeVarintBig(buf, 0, 2n ** 53n - 1n);
    expect(readVarintAt(buf, 0, 8)).toBe(Number.MAX_SAFE_INTEGER);
    writeVarintBig(buf, 0, 2n ** 53n - 2n);
    expect(readVarintAt(buf, 0, 8)).toBe(Number.MAX_SAFE_INTEGER - 1);
    writeVarintBig(buf, 0, VARINT_MAX);
    expect(readVarintAt(buf, 0, 8)).toBe(Number.MAX_SAFE_INTEGER);
  });
});

describe('varint properties', () => {
  it('number round trip: write then read gives the value and the minimal length', () => {
    fc.assert(
      fc.property(fc.maxSafeNat(), fc.nat(8), (v, pad) => {
        const buf = new Uint8Array(pad + 8);
        const end = writeVarint(buf, pad, v);
        expect(end - pad).toBe(varintLength(v));
        expect(readVarintAt(buf, pad, end)).toBe(v);
        const r = new BufferReader(buf, pad, end);
        expect(r.varint()).toBe(v);
        expect(r.pos).toBe(end);
        expect(isNonMinimalVarintAt(buf, pad, end)).toBe(false);
      }),
    );
  });

  it('bigint round trip over the full 62-bit range, agreeing with the number reader where exact', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: VARINT_MAX }), (v) => {
        const buf = new Uint8Array(8);
        const end = writeVarintBig(buf, 0, v);
        expect(readVarintBigAt(buf, 0, end)).toBe(v);
        const n = readVarintAt(buf, 0, end);
        expect(n).toBe(v > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : Number(v));
      }),
    );
  });

  it('every fixed length that fits decodes to the same value', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 2 ** 30 - 1 }), fc.constantFrom(1, 2, 4, 8) as fc.Arbitrary<1 | 2 | 4 | 8>, (v, len) => {
        fc.pre(len >= varintLength(v));
        const buf = new Uint8Array(8);
        writeVarintWithLength(buf, 0, v, len);
        expect(readVarintAt(buf, 0, len)).toBe(v);
        expect(isNonMinimalVarintAt(buf, 0, len)).toBe(len !== varintLength(v));
      }),
    );
  });
});
