/** The minimal DER reader: well-formed elements, and every malformed shape a TypeError. */
import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { DerReader, DerTag, bigIntToBytes, bytesToBigInt, oidToString, readAlgorithmIdentifier } from '../../src/crypto/der.js';
import { fromHex } from '../../src/util/bytes.js';

describe('DerReader', () => {
  it('reads nested sequences, integers, strings and OIDs as views', () => {
    // SEQUENCE { SEQUENCE { OID 1.2.840.10045.2.1, OID 1.2.840.10045.3.1.7 }, BIT STRING 00 04 01 02 }
    const der = fromHex('301b' + '3013' + '06072a8648ce3d0201' + '06082a8648ce3d030107' + '030400040102');
    const r = new DerReader(der);
    const spki = r.readSequence();
    expect(r.done).toBe(true);
    const alg = readAlgorithmIdentifier(spki);
    expect(alg.oid).toBe('1.2.840.10045.2.1');
    expect(alg.parameters?.tag).toBe(DerTag.ObjectIdentifier);
    expect(oidToString(alg.parameters!.contents)).toBe('1.2.840.10045.3.1.7');
    const bits = spki.readBitStringBytes();
    expect(Array.from(bits)).toEqual([4, 1, 2]);
    expect(bits.buffer).toBe(der.buffer);
    spki.expectEnd('test');
  });

  it('OIDs with large arcs and a first arc of 2', () => {
    expect(oidToString(fromHex('2a864886f70d010101'))).toBe('1.2.840.113549.1.1.1');
    expect(oidToString(fromHex('2b6570'))).toBe('1.3.101.112');
    expect(oidToString(fromHex('8837'))).toBe('2.999');
  });

  it('long-form lengths', () => {
    const body = new Uint8Array(300).fill(7);
    const der = Uint8Array.from([0x04, 0x82, 0x01, 0x2c, ...body]);
    expect(new DerReader(der).read(DerTag.OctetString)).toEqual(body);
  });

  it.each([
    ['truncated header', '30'],
    ['element past its container', '3005020101'],
    ['indefinite length', '3080020101 0000'],
    ['non-minimal long length', '30810302010 1'],
    ['non-minimal two-byte length', '3082000302 0101'],
    ['multi-byte tag', '1f2201 00'],
  ])('%s is a TypeError', (_name, hex) => {
    expect(() => new DerReader(fromHex(hex)).readAny()).toThrow(TypeError);
  });

  it('wrong tags, negative integers, unused bits, trailing data are TypeErrors', () => {
    expect(() => new DerReader(fromHex('020101')).read(DerTag.Sequence)).toThrow(TypeError);
    expect(() => new DerReader(fromHex('0201ff')).readUnsignedInteger()).toThrow(TypeError);
    expect(() => new DerReader(fromHex('03020180')).readBitStringBytes()).toThrow(TypeError);
    const r = new DerReader(fromHex('0201010201 02'));
    r.readSmallInteger();
    expect(() => r.expectEnd('x')).toThrow(TypeError);
    expect(() => oidToString(fromHex('2a86'))).toThrow(TypeError);
  });

  it('never throws anything but TypeError on random bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 40 }), (bytes) => {
        const r = new DerReader(bytes);
        try {
          while (!r.done) {
            const e = r.readAny();
            if (e.tag === DerTag.Sequence) new DerReader(e.contents).readAny();
            if (e.tag === DerTag.ObjectIdentifier) oidToString(e.contents);
          }
        } catch (err) {
          expect(err).toBeInstanceOf(TypeError);
        }
      }),
      { numRuns: 500 },
    );
  });
});

describe('BigInt conversion', () => {
  it('round-trips fixed-width big-endian bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 1, maxLength: 64 }), (bytes) => {
        expect(bigIntToBytes(bytesToBigInt(bytes), bytes.length)).toEqual(bytes);
      }),
    );
    expect(bytesToBigInt(new Uint8Array(0))).toBe(0n);
  });
});
