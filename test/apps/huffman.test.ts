import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { huffmanCode, huffmanDecode, huffmanEncode, huffmanEncodedLength, HUFFMAN_EOS } from '../../src/apps/huffman.js';
import { fromHex, toHex } from '../../src/util/bytes.js';

const latin1 = (s: string) => Uint8Array.from(Buffer.from(s, 'latin1'));
const text = (b: Uint8Array | undefined) => (b === undefined ? undefined : Buffer.from(b).toString('latin1'));

// RFC 7541 Appendix C.4 and C.6: string literals with Huffman coding.
const APPENDIX_C = [
  ['www.example.com', 'f1e3c2e5f23a6ba0ab90f4ff'],
  ['no-cache', 'a8eb10649cbf'],
  ['custom-key', '25a849e95ba97d7f'],
  ['custom-value', '25a849e95bb8e8b4bf'],
  ['302', '6402'],
  ['private', 'aec3771a4b'],
  ['Mon, 21 Oct 2013 20:13:21 GMT', 'd07abe941054d444a8200595040b8166e082a62d1bff'],
  ['https://www.example.com', '9d29ad171863c78f0b97c8e9ae82ae43d3'],
  ['307', '640eff'],
  ['Mon, 21 Oct 2013 20:13:22 GMT', 'd07abe941054d444a8200595040b8166e084a62d1bff'],
  ['gzip', '9bd9ab'],
  ['foo=ASDJKHQKBZXOQWEOPIUAXQWEOIU; max-age=3600; version=1', '94e7821dd7f2e6c7b335dfdfcd5b3960d5af27087f3672c1ab270fb5291f9587316065c003ed4ee5b1063d5007'],
] as const;

describe('Huffman code (RFC 7541 Appendix B)', () => {
  it('has the code points the RFC lists for a sample of symbols', () => {
    expect(huffmanCode(0)).toEqual({ code: 0x1ff8, length: 13 });
    expect(huffmanCode(32)).toEqual({ code: 0x14, length: 6 }); // ' '
    expect(huffmanCode(48)).toEqual({ code: 0x0, length: 5 }); // '0'
    expect(huffmanCode(97)).toEqual({ code: 0x3, length: 5 }); // 'a'
    expect(huffmanCode(92)).toEqual({ code: 0x7fff0, length: 19 }); // '\'
    expect(huffmanCode(10)).toEqual({ code: 0x3ffffffc, length: 30 });
    expect(huffmanCode(203)).toEqual({ code: 0x7ffffde, length: 27 });
    expect(huffmanCode(255)).toEqual({ code: 0x3ffffee, length: 26 });
    expect(huffmanCode(HUFFMAN_EOS)).toEqual({ code: 0x3fffffff, length: 30 });
  });

  it('is a complete prefix code (Kraft sum exactly 1) with distinct codes', () => {
    let kraft = 0;
    const seen = new Set<string>();
    for (let s = 0; s <= HUFFMAN_EOS; s++) {
      const { code, length } = huffmanCode(s);
      kraft += 2 ** -length;
      seen.add(`${length}:${code}`);
    }
    expect(kraft).toBe(1);
    expect(seen.size).toBe(257);
  });

  it.each(APPENDIX_C)('decodes and encodes %j as in RFC 7541 Appendix C', (plain, encoded) => {
    expect(text(huffmanDecode(fromHex(encoded)))).toBe(plain);
    expect(toHex(huffmanEncode(latin1(plain)))).toBe(encoded);
    expect(huffmanEncodedLength(latin1(plain))).toBe(encoded.length / 2);
  });

  it('round-trips any bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (data) => {
        const back = huffmanDecode(huffmanEncode(data));
        expect(back).toEqual(data);
      }),
    );
  });

  it('rejects padding longer than 7 bits', () => {
    // 'a' (00011) then 11 one-bits: padding of 11 bits.
    expect(huffmanDecode(fromHex('1fff'))).toBeUndefined();
    // A whole byte of ones after complete symbols is also too long.
    expect(huffmanDecode(fromHex('f1e3c2e5f23a6ba0ab90f4ffff'))).toBeUndefined();
  });

  it('rejects padding that is not the EOS prefix (zero bits)', () => {
    // '0' is 00000: the 3 bits after it must be ones; 0x00 leaves 000 which is not.
    expect(huffmanDecode(fromHex('00'))).toBeUndefined();
    expect(text(huffmanDecode(fromHex('07')))).toBe('0');
  });

  it('rejects an EOS symbol inside the string', () => {
    // 30 one-bits (EOS) followed by 2 one-bits of padding.
    expect(huffmanDecode(fromHex('ffffffff'))).toBeUndefined();
  });

  it('decodes the empty string', () => {
    expect(huffmanDecode(new Uint8Array(0))).toEqual(new Uint8Array(0));
  });
});
