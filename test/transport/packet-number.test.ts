import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  decodePacketNumber,
  decodePacketNumberBig,
  packetNumberLength,
  readTruncatedPacketNumber,
  writePacketNumber,
} from '../../src/transport/packet-number.js';
import { toHex } from '../../src/util/bytes.js';

interface PnVectors {
  packet_number_encode: { largest_acked: string; full_pn: string; num_unacked: number; encoded_bits: number; encoded: string }[];
  packet_number_decode: { largest_pn: string; truncated_pn: string; pn_nbits: number; decoded: string }[];
  derived: { packet_number_decode: { largest_pn: string; truncated_pn: string; pn_nbits: number; decoded: string; why: string }[] };
}

const vectors = JSON.parse(
  readFileSync(new URL('../../../shared/vectors/rfc9000-varint.json', import.meta.url), 'utf8'),
) as PnVectors;

describe('packet number encoding (RFC 9000 Appendix A.2)', () => {
  it('chooses the RFC sizes and writes the truncated bytes', () => {
    for (const v of vectors.packet_number_encode) {
      const full = Number(v.full_pn);
      const largest = Number(v.largest_acked);
      expect(full - largest).toBe(v.num_unacked);
      const len = packetNumberLength(full, largest);
      expect(len * 8).toBe(v.encoded_bits);
      const buf = new Uint8Array(4);
      expect(writePacketNumber(buf, 0, full, len)).toBe(len);
      expect(toHex(buf.subarray(0, len))).toBe(v.encoded);
      expect(readTruncatedPacketNumber(buf, 0, len)).toBe(Number.parseInt(v.encoded, 16));
    }
  });

  it('uses full_pn + 1 as the unacknowledged count before any ACK', () => {
    expect(packetNumberLength(0, undefined)).toBe(1);
    expect(packetNumberLength(127, undefined)).toBe(1);
    expect(packetNumberLength(128, undefined)).toBe(2);
  });

  it('switches size exactly where ceil((log2(n) + 1) / 8) does', () => {
    expect(packetNumberLength(128, 0)).toBe(1);
    expect(packetNumberLength(129, 0)).toBe(2);
    expect(packetNumberLength(0x8000, 0)).toBe(2);
    expect(packetNumberLength(0x8001, 0)).toBe(3);
    expect(packetNumberLength(0x80_0000, 0)).toBe(3);
    expect(packetNumberLength(0x80_0001, 0)).toBe(4);
    expect(packetNumberLength(0x8000_0000, 0)).toBe(4);
    expect(() => packetNumberLength(0x8000_0001, 0)).toThrow(RangeError);
    expect(() => packetNumberLength(5, 5)).toThrow(RangeError);
    expect(() => packetNumberLength(-1, undefined)).toThrow(RangeError);
  });

  it('refuses bad lengths and short buffers', () => {
    expect(() => writePacketNumber(new Uint8Array(4), 0, 1, 5)).toThrow(RangeError);
    expect(() => writePacketNumber(new Uint8Array(4), 0, 1, 0)).toThrow(RangeError);
    expect(() => writePacketNumber(new Uint8Array(2), 0, 1, 3)).toThrow(RangeError);
  });
});

describe('packet number decoding (RFC 9000 Appendix A.3)', () => {
  it('decodes the RFC sample and every derived case (bigint, full range)', () => {
    for (const v of [...vectors.packet_number_decode, ...vectors.derived.packet_number_decode]) {
      expect(decodePacketNumberBig(BigInt(v.largest_pn), BigInt(v.truncated_pn), v.pn_nbits)).toBe(BigInt(v.decoded));
    }
  });

  it('decodes the same cases with numbers where they are exact', () => {
    let checked = 0;
    for (const v of [...vectors.packet_number_decode, ...vectors.derived.packet_number_decode]) {
      if (BigInt(v.largest_pn) > 2n ** 52n) continue;
      expect(decodePacketNumber(Number(v.largest_pn), Number(v.truncated_pn), v.pn_nbits)).toBe(Number(v.decoded));
      checked++;
    }
    expect(checked).toBe(7);
  });

  it('decodes the first packet of a space (largest = -1)', () => {
    expect(decodePacketNumber(-1, 0, 8)).toBe(0);
    expect(decodePacketNumber(-1, 5, 32)).toBe(5);
  });

  it('property: encode with the RFC length, decode at any receiver state in the window, get the packet number back', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 2 ** 40 }),
        fc.integer({ min: 1, max: 2 ** 20 }),
        fc.integer({ min: -(2 ** 20), max: 2 ** 20 }),
        (largestAcked, ahead, receiverSkew) => {
          const pn = largestAcked + ahead;
          const len = packetNumberLength(pn, largestAcked);
          const buf = new Uint8Array(4);
          writePacketNumber(buf, 0, pn, len);
          const truncated = readTruncatedPacketNumber(buf, 0, len);
          // The receiver has processed something in [largestAcked, pn + window/2 - 2]: the
          // candidate must lie strictly above expected - window/2 (RFC 9000 Appendix A.3).
          const halfWin = 2 ** (8 * len - 1);
          const largestReceived = Math.min(Math.max(largestAcked, pn - 1 + receiverSkew), pn + halfWin - 2);
          fc.pre(largestReceived >= largestAcked);
          expect(decodePacketNumber(largestReceived, truncated, 8 * len)).toBe(pn);
          expect(decodePacketNumberBig(BigInt(largestReceived), BigInt(truncated), 8 * len)).toBe(BigInt(pn));
        },
      ),
    );
  });
});
