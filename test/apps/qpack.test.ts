import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { decodeFieldSection, encodeFieldSection, writePrefixedInteger, type HeaderField } from '../../src/apps/qpack.js';
import { QPACK_STATIC_TABLE } from '../../src/apps/qpack-static-table.js';
import { H3Error, H3ErrorCode } from '../../src/apps/h3-constants.js';
import { fromHex, toHex } from '../../src/util/bytes.js';

function decodeError(hex: string): number | undefined {
  try {
    decodeFieldSection(fromHex(hex));
    return undefined;
  } catch (e) {
    expect(e).toBeInstanceOf(H3Error);
    return (e as H3Error).code;
  }
}

describe('QPACK static table (RFC 9204 Appendix A)', () => {
  it('has 99 entries with the RFC values at sample indices', () => {
    expect(QPACK_STATIC_TABLE.length).toBe(99);
    expect(QPACK_STATIC_TABLE[0]).toEqual([':authority', '']);
    expect(QPACK_STATIC_TABLE[17]).toEqual([':method', 'GET']);
    expect(QPACK_STATIC_TABLE[25]).toEqual([':status', '200']);
    expect(QPACK_STATIC_TABLE[31]).toEqual(['accept-encoding', 'gzip, deflate, br']);
    expect(QPACK_STATIC_TABLE[63]).toEqual([':status', '100']);
    expect(QPACK_STATIC_TABLE[98]).toEqual(['x-frame-options', 'sameorigin']);
  });
});

describe('prefixed integers (RFC 7541 §5.1, Appendix C.1)', () => {
  it('encodes the RFC examples', () => {
    const a: number[] = [];
    writePrefixedInteger(a, 10, 5, 0);
    expect(a).toEqual([0x0a]);
    const b: number[] = [];
    writePrefixedInteger(b, 1337, 5, 0);
    expect(b).toEqual([0x1f, 0x9a, 0x0a]);
    const c: number[] = [];
    writePrefixedInteger(c, 42, 8, 0);
    expect(c).toEqual([0x2a]);
  });

  it('refuses negative values', () => {
    expect(() => writePrefixedInteger([], -1, 5, 0)).toThrow(RangeError);
  });
});

describe('QPACK field sections', () => {
  it('decodes RFC 9204 Appendix B.1 (literal with static name reference)', () => {
    expect(decodeFieldSection(fromHex('0000510b2f696e6465782e68746d6c'))).toEqual([[':path', '/index.html']]);
  });

  it('encodes B.1 byte for byte without Huffman coding', () => {
    expect(toHex(encodeFieldSection([[':path', '/index.html']], { huffman: false }))).toBe('0000510b2f696e6465782e68746d6c');
  });

  it('uses indexed field lines for exact static matches', () => {
    expect(toHex(encodeFieldSection([[':method', 'GET'], [':scheme', 'https'], [':status', '200']]))).toBe('0000d1d7d9');
  });

  it('decodes Huffman-coded values and names (strings of RFC 7541 C.4)', () => {
    // :authority (static 0) with a Huffman value, then a Huffman literal name with a Huffman value.
    const block = '0000' + '508c' + 'f1e3c2e5f23a6ba0ab90f4ff' + '2f01' + '25a849e95ba97d7f' + '89' + '25a849e95bb8e8b4bf';
    const fields: HeaderField[] = [
      [':authority', 'www.example.com'],
      ['custom-key', 'custom-value'],
    ];
    expect(decodeFieldSection(fromHex(block))).toEqual(fields);
    // Our encoder picks the same representations (Huffman is shorter for all three strings).
    expect(toHex(encodeFieldSection(fields))).toBe(block);
  });

  it('round-trips arbitrary fields, with and without Huffman coding', () => {
    const name = fc.stringMatching(/^[a-z0-9-]{1,20}$/);
    const value = fc.string({ maxLength: 60, unit: fc.integer({ min: 0, max: 255 }).map((c) => String.fromCharCode(c)) });
    const staticPick = fc.integer({ min: 0, max: 98 }).map((i) => QPACK_STATIC_TABLE[i]! as HeaderField);
    const field = fc.oneof(fc.tuple(name, value) as fc.Arbitrary<HeaderField>, staticPick, fc.tuple(staticPick.map((f) => f[0]), value) as fc.Arbitrary<HeaderField>);
    fc.assert(
      fc.property(fc.array(field, { maxLength: 12 }), fc.boolean(), (fields, huffman) => {
        expect(decodeFieldSection(encodeFieldSection(fields, { huffman }))).toEqual(fields);
      }),
    );
  });

  it('rejects a non-zero Required Insert Count (no dynamic table)', () => {
    expect(decodeError('0200d1')).toBe(H3ErrorCode.QPACK_DECOMPRESSION_FAILED);
  });

  it('rejects a negative Base', () => {
    expect(decodeError('0080d1')).toBe(H3ErrorCode.QPACK_DECOMPRESSION_FAILED);
  });

  it('rejects dynamic-table and post-base references', () => {
    expect(decodeError('000080')).toBe(H3ErrorCode.QPACK_DECOMPRESSION_FAILED); // indexed, T=0
    expect(decodeError('0000410161')).toBe(H3ErrorCode.QPACK_DECOMPRESSION_FAILED); // name ref, T=0
    expect(decodeError('000010')).toBe(H3ErrorCode.QPACK_DECOMPRESSION_FAILED); // post-base indexed
    expect(decodeError('0000000161')).toBe(H3ErrorCode.QPACK_DECOMPRESSION_FAILED); // post-base name ref
  });

  it('rejects static indices past the table', () => {
    expect(decodeError('0000ff24')).toBe(H3ErrorCode.QPACK_DECOMPRESSION_FAILED); // index 63 + 36 = 99
    expect(decodeError('0000ff23')).toBeUndefined(); // index 98 exists
  });

  it('rejects truncated sections and bad Huffman strings', () => {
    expect(decodeError('')).toBe(H3ErrorCode.QPACK_DECOMPRESSION_FAILED);
    expect(decodeError('00')).toBe(H3ErrorCode.QPACK_DECOMPRESSION_FAILED);
    expect(decodeError('0000510b2f696e')).toBe(H3ErrorCode.QPACK_DECOMPRESSION_FAILED);
    expect(decodeError('00005f')).toBe(H3ErrorCode.QPACK_DECOMPRESSION_FAILED); // index continuation missing
    expect(decodeError('00005184ffffffff')).toBe(H3ErrorCode.QPACK_DECOMPRESSION_FAILED); // Huffman EOS
  });

  it('rejects field names or values outside Latin-1 when encoding', () => {
    expect(() => encodeFieldSection([['x', '\u20ac']])).toThrow(TypeError);
  });
});
