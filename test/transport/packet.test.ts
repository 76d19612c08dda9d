import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { QuicError, TransportError } from '../../src/transport/errors.js';
import {
  HeaderStatus,
  PacketHeader,
  PacketType,
  assertReservedBitsZero,
  keyPhaseOf,
  packetNumberLengthOf,
  parsePacketHeader,
} from '../../src/transport/packet.js';
import {
  LENGTH_PLACEHOLDER_SIZE,
  NO_TOKEN,
  longHeaderLength,
  patchLongHeaderLength,
  writeLongHeader,
  writeRetry,
  writeShortHeader,
  writeVersionNegotiation,
} from '../../src/transport/packet-header-writer.js';
import { writePacketNumber } from '../../src/transport/packet-number.js';
import { QUIC_V1, QUIC_V2 } from '../../src/transport/version.js';
import { fromHex, toHex } from '../../src/util/bytes.js';

interface PacketSample {
  packet_number: number;
  packet_number_length: number;
  unprotected_header: string;
  protected_packet: string;
}
interface Vectors {
  client_dcid: string;
  client_initial: PacketSample;
  server_initial: PacketSample;
  retry: { packet: string; odcid: string };
  chacha20_short_header: { packet: string; unprotected_header: string; packet_number: number; packet_number_length: number };
}
function load(name: string): Vectors {
  return JSON.parse(readFileSync(new URL(`../../../shared/vectors/${name}`, import.meta.url), 'utf8')) as Vectors;
}
const V1 = load('rfc9001-initial.json');
const V2 = load('rfc9369-v2.json');
const SERVER_CID = 'f067a5502a4262b5';

function parse(bytes: Uint8Array, offset = 0, shortDcid = 0, acceptZero = false): [HeaderStatus, PacketHeader] {
  const h = new PacketHeader();
  return [parsePacketHeader(bytes, offset, shortDcid, h, acceptZero), h];
}

describe.each([
  ['v1', V1, QUIC_V1],
  ['v2', V2, QUIC_V2],
])('RFC %s sample packets', (_name, vec, version) => {
  it('parses the protected client Initial: CIDs, empty token, pn offset after Length, end of packet', () => {
    const pkt = fromHex(vec.client_initial.protected_packet);
    const [status, h] = parse(pkt);
    expect(status).toBe(HeaderStatus.Ok);
    expect(h.type).toBe(PacketType.Initial);
    expect(h.version).toBe(version);
    expect(h.isLongHeader).toBe(true);
    expect(toHex(h.dcid)).toBe(vec.client_dcid);
    expect(h.scid.length).toBe(0);
    expect(h.token.length).toBe(0);
    const headerLen = vec.client_initial.unprotected_header.length / 2 - vec.client_initial.packet_number_length;
    expect(h.pnOffset).toBe(headerLen);
    expect(h.end).toBe(1200);
    expect(h.dcid.buffer).toBe(pkt.buffer); // a view, not a copy
  });

  it('parses the protected server Initial', () => {
    const pkt = fromHex(vec.server_initial.protected_packet);
    const [status, h] = parse(pkt);
    expect(status).toBe(HeaderStatus.Ok);
    expect(h.type).toBe(PacketType.Initial);
    expect(h.dcid.length).toBe(0);
    expect(toHex(h.scid)).toBe(SERVER_CID);
    expect(h.pnOffset).toBe(vec.server_initial.unprotected_header.length / 2 - vec.server_initial.packet_number_length);
    expect(h.end).toBe(pkt.length);
  });

  it('parses the Retry: token and integrity tag', () => {
    const pkt = fromHex(vec.retry.packet);
    const [status, h] = parse(pkt);
    expect(status).toBe(HeaderStatus.Ok);
    expect(h.type).toBe(PacketType.Retry);
    expect(h.version).toBe(version);
    expect(toHex(h.scid)).toBe(SERVER_CID);
    expect(new TextDecoder().decode(h.token)).toBe('token');
    expect(toHex(h.retryIntegrityTag)).toBe(vec.retry.packet.slice(-32));
    expect(h.end).toBe(pkt.length);
  });

  it('parses the short-header ChaCha20 packet (empty DCID)', () => {
    const pkt = fromHex(vec.chacha20_short_header.packet);
    const [status, h] = parse(pkt, 0, 0);
    expect(status).toBe(HeaderStatus.Ok);
    expect(h.type).toBe(PacketType.OneRtt);
    expect(h.isLongHeader).toBe(false);
    expect(h.pnOffset).toBe(1);
    expect(h.end).toBe(pkt.length);
  });

  it('writes the unprotected Initial headers byte for byte', () => {
    for (const [sample, dcid, scid] of [
      [vec.client_initial, vec.client_dcid, ''],
      [vec.server_initial, '', SERVER_CID],
    ] as const) {
      const buf = new Uint8Array(64);
      const pnOffset = writeLongHeader(buf, 0, PacketType.Initial, version, fromHex(dcid), fromHex(scid), NO_TOKEN, sample.packet_number_length);
      const protectedLength = fromHex(sample.protected_packet).length - pnOffset;
      patchLongHeaderLength(buf, pnOffset - LENGTH_PLACEHOLDER_SIZE, protectedLength);
      const end = writePacketNumber(buf, pnOffset, sample.packet_number, sample.packet_number_length);
      expect(toHex(buf.subarray(0, end))).toBe(sample.unprotected_header);
      expect(pnOffset).toBe(longHeaderLength(dcid.length / 2, scid.length / 2, 0, true));
    }
  });

  it('writes the Retry packet up to its tag byte for byte', () => {
    const expected = fromHex(vec.retry.packet);
    const buf = new Uint8Array(128);
    const tagOffset = writeRetry(buf, 0, version, NO_TOKEN, fromHex(SERVER_CID), new TextEncoder().encode('token'), expected[0]! & 0x0f);
    expect(toHex(buf.subarray(0, tagOffset))).toBe(toHex(expected.subarray(0, expected.length - 16)));
  });

  it('writes the short header of the ChaCha20 sample', () => {
    const s = vec.chacha20_short_header;
    const buf = new Uint8Array(8);
    const pnOffset = writeShortHeader(buf, 0, NO_TOKEN, s.packet_number_length, 0, false);
    const end = writePacketNumber(buf, pnOffset, s.packet_number, s.packet_number_length);
    expect(toHex(buf.subarray(0, end))).toBe(s.unprotected_header);
    expect(packetNumberLengthOf(buf[0]!)).toBe(3);
    expect(keyPhaseOf(buf[0]!)).toBe(0);
  });
});

describe('coalesced packets', () => {
  it('walks Initial + Handshake + 1-RTT in one datagram by the Length fields', () => {
    const buf = new Uint8Array(400);
    const dcid = fromHex('0102030405060708');
    const scid = fromHex('aabbcc');
    const token = fromHex('deadbeef');
    let p = writeLongHeader(buf, 0, PacketType.Initial, QUIC_V1, dcid, scid, token, 2);
    patchLongHeaderLength(buf, p - 2, 50);
    const initialPn = p;
    p += 50;
    const hsStart = p;
    p = writeLongHeader(buf, p, PacketType.Handshake, QUIC_V1, dcid, scid, NO_TOKEN, 1);
    patchLongHeaderLength(buf, p - 2, 30);
    const hsPn = p;
    p += 30;
    const shortStart = p;
    const shortPn = writeShortHeader(buf, p, dcid, 4, 1, true);
    const datagram = buf.subarray(0, shortPn + 40);

    const h = new PacketHeader();
    const seen: [PacketType, number, number, number][] = [];
    for (let off = 0; off < datagram.length; off = h.end) {
      expect(parsePacketHeader(datagram, off, dcid.length, h)).toBe(HeaderStatus.Ok);
      expect(toHex(h.dcid)).toBe(toHex(dcid));
      seen.push([h.type, h.start, h.pnOffset, h.end]);
    }
    expect(seen).toEqual([
      [PacketType.Initial, 0, initialPn, initialPn + 50],
      [PacketType.Handshake, hsStart, hsPn, hsPn + 30],
      [PacketType.OneRtt, shortStart, shortPn, datagram.length],
    ]);
    parsePacketHeader(datagram, 0, dcid.length, h);
    expect(toHex(h.token)).toBe('deadbeef');
    expect(toHex(h.scid)).toBe('aabbcc');
  });

  it('v2 type bits map back to the same packet types', () => {
    const buf = new Uint8Array(100);
    for (const type of [PacketType.Initial, PacketType.ZeroRtt, PacketType.Handshake]) {
      const pn = writeLongHeader(buf, 0, type, QUIC_V2, fromHex('01'), fromHex('02'), NO_TOKEN, 1);
      patchLongHeaderLength(buf, pn - 2, 10);
      const [status, h] = parse(buf.subarray(0, pn + 10));
      expect(status).toBe(HeaderStatus.Ok);
      expect(h.type).toBe(type);
      expect(h.version).toBe(QUIC_V2);
    }
  });

  it('v2 long headers carry the RFC 9369 §3.2 type bits', () => {
    const types = (JSON.parse(readFileSync(new URL('../../../shared/vectors/rfc9369-v2.json', import.meta.url), 'utf8')) as {
      long_header_types: Record<'initial' | '0rtt' | 'handshake' | 'retry', string>;
    }).long_header_types;
    const bits = (s: string): number => Number.parseInt(s.replace(/^0b/, ''), 2);
    const buf = new Uint8Array(100);
    const cases = [
      [PacketType.Initial, types.initial],
      [PacketType.ZeroRtt, types['0rtt']],
      [PacketType.Handshake, types.handshake],
    ] as const;
    for (const [type, wire] of cases) {
      writeLongHeader(buf, 0, type, QUIC_V2, NO_TOKEN, NO_TOKEN, NO_TOKEN, 1);
      expect((buf[0]! >> 4) & 3).toBe(bits(wire));
    }
    writeRetry(buf, 0, QUIC_V2, NO_TOKEN, NO_TOKEN, NO_TOKEN);
    expect((buf[0]! >> 4) & 3).toBe(bits(types.retry));
  });
});

describe('Version Negotiation and unknown versions', () => {
  it('writes and parses a Version Negotiation packet with long CIDs', () => {
    const dcid = new Uint8Array(255).fill(7);
    const scid = new Uint8Array(40).fill(9);
    const buf = new Uint8Array(400);
    const end = writeVersionNegotiation(buf, 0, dcid, scid, [QUIC_V1, QUIC_V2, 0x1a2a3a4a], 0x55);
    const [status, h] = parse(buf.subarray(0, end));
    expect(status).toBe(HeaderStatus.Ok);
    expect(h.type).toBe(PacketType.VersionNegotiation);
    expect(h.version).toBe(0);
    expect(buf[0]).toBe(0x80 | 0x55);
    expect(h.dcid).toEqual(dcid);
    expect(h.scid).toEqual(scid);
    expect(h.supportedVersions).toEqual([QUIC_V1, QUIC_V2, 0x1a2a3a4a]);
    expect(h.end).toBe(end);
    expect(() => h.supportedVersion(3)).toThrow(RangeError);
  });

  it('rejects a version list that is not a multiple of 4 bytes', () => {
    const buf = new Uint8Array(100);
    const end = writeVersionNegotiation(buf, 0, fromHex('01'), fromHex('02'), [QUIC_V1]);
    expect(parse(buf.subarray(0, end - 1))[0]).toBe(HeaderStatus.BadVersionList);
  });

  it('parses only the invariants of an unknown version, allowing CIDs up to 255 bytes', () => {
    const pkt = new Uint8Array(1200);
    pkt.set([0xc0, 0xfa, 0xce, 0xb0, 0x0c, 30]);
    pkt.fill(1, 6, 36);
    pkt[36] = 25;
    pkt.fill(2, 37, 62);
    const [status, h] = parse(pkt);
    expect(status).toBe(HeaderStatus.Ok);
    expect(h.type).toBe(PacketType.UnknownVersion);
    expect(h.version).toBe(0xfaceb00c);
    expect(h.dcid.length).toBe(30);
    expect(h.scid.length).toBe(25);
    expect(h.pnOffset).toBe(62);
    expect(h.end).toBe(1200);
  });
});

describe('malformed headers are statuses, never exceptions', () => {
  const samples = [V1.client_initial.protected_packet, V1.server_initial.protected_packet, V1.retry.packet, V2.retry.packet, V2.server_initial.protected_packet];

  it('every truncation of the sample packets is reported as not Ok', () => {
    for (const hex of samples) {
      const pkt = fromHex(hex);
      const [, full] = parse(pkt);
      // A Retry has no Length field: cut after its SCID + 16 bytes it is a valid Retry with a
      // shorter token (only the integrity tag can tell). Every other cut must be refused.
      const validFrom = full.type === PacketType.Retry ? full.scidOffset + full.scidLength + 16 : pkt.length;
      for (let n = 0; n < pkt.length; n++) {
        const [status, h] = parse(pkt.subarray(0, n));
        if (n >= validFrom) expect(status).toBe(HeaderStatus.Ok);
        else expect(status, `${hex.slice(0, 10)} cut at ${n}`).not.toBe(HeaderStatus.Ok);
        expect(h.end).toBeLessThanOrEqual(n);
      }
    }
  });

  it('a short header shorter than its DCID plus one byte is truncated', () => {
    expect(parse(fromHex('40010203'), 0, 3)[0]).toBe(HeaderStatus.Truncated);
    expect(parse(fromHex('4001020304'), 0, 3)[0]).toBe(HeaderStatus.Ok);
  });

  it('a v1/v2 connection ID over 20 bytes is ConnectionIdTooLong (DCID or SCID, any long type)', () => {
    const cid21 = Array<number>(21).fill(0xab);
    // Initial: first byte, version, DCID len + DCID, SCID len, token length 0, Length 1, 1 byte.
    const initial = Uint8Array.from([0xc0, 0, 0, 0, 1, 21, ...cid21, 0, 0, 1, 0]);
    expect(parse(initial)[0]).toBe(HeaderStatus.ConnectionIdTooLong);
    const handshake = Uint8Array.from([0xe0, 0, 0, 0, 1, 0, 21, ...cid21, 1, 0]);
    expect(parse(handshake)[0]).toBe(HeaderStatus.ConnectionIdTooLong);
    const retry = Uint8Array.from([0xf0, 0, 0, 0, 1, 0, 21, ...cid21, ...Array<number>(16).fill(0)]);
    expect(parse(retry)[0]).toBe(HeaderStatus.ConnectionIdTooLong);
    const v2initial = Uint8Array.from([0xd0, 0x6b, 0x33, 0x43, 0xcf, 21, ...cid21, 0, 0, 1, 0]);
    expect(parse(v2initial)[0]).toBe(HeaderStatus.ConnectionIdTooLong);
    // 20 is fine.
    const ok = Uint8Array.from([0xc0, 0, 0, 0, 1, 20, ...cid21.slice(1), 0, 0, 1, 0]);
    expect(parse(ok)[0]).toBe(HeaderStatus.Ok);
  });

  it('fixed bit 0: FixedBitZero with the header parsed, Ok when greasing was negotiated', () => {
    const pkt = fromHex(V1.client_initial.protected_packet);
    pkt[0]! &= ~0x40;
    const [status, h] = parse(pkt);
    expect(status).toBe(HeaderStatus.FixedBitZero);
    expect(h.end).toBe(1200);
    expect(h.fixedBit).toBe(false);
    expect(parse(pkt, 0, 0, true)[0]).toBe(HeaderStatus.Ok);
    const short = fromHex('0001020304');
    expect(parse(short, 0, 2)[0]).toBe(HeaderStatus.FixedBitZero);
    expect(parse(short, 0, 2, true)[0]).toBe(HeaderStatus.Ok);
  });

  it('a Retry without room for its tag is RetryTooShort', () => {
    const pkt = fromHex(V1.retry.packet);
    expect(parse(pkt.subarray(0, pkt.length - 6))[0]).toBe(HeaderStatus.RetryTooShort);
  });

  it('a Length running past the datagram is Truncated', () => {
    const pkt = fromHex(V1.server_initial.protected_packet);
    expect(parse(pkt.subarray(0, pkt.length - 1))[0]).toBe(HeaderStatus.Truncated);
  });

  it('an offset at the end of the datagram is Truncated', () => {
    expect(parse(new Uint8Array(3), 3)[0]).toBe(HeaderStatus.Truncated);
  });

  it('property: random bytes at random offsets never throw', () => {
    const h = new PacketHeader();
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 80 }), fc.nat(80), fc.nat(21), fc.boolean(), (bytes, off, dcidLen, acceptZero) => {
        const status = parsePacketHeader(bytes, Math.min(off, bytes.length), dcidLen, h, acceptZero);
        expect(status).toBeGreaterThanOrEqual(0);
        expect(h.end).toBeLessThanOrEqual(bytes.length);
        if (status === HeaderStatus.Ok) {
          expect(h.pnOffset).toBeLessThanOrEqual(h.end);
          const views = [h.dcid, h.scid, h.token, h.retryIntegrityTag];
          for (const view of views) expect(view.byteOffset + view.length).toBeLessThanOrEqual(bytes.byteOffset + bytes.length);
          expect(h.supportedVersions).toHaveLength(h.versionCount);
        }
      }),
      { numRuns: 2000 },
    );
  });
});

describe('reserved bits after header protection removal', () => {
  it('accepts zero reserved bits and rejects any set bit with PROTOCOL_VIOLATION', () => {
    expect(() => assertReservedBitsZero(0xc3)).not.toThrow();
    expect(() => assertReservedBitsZero(0x47)).not.toThrow(); // short: key phase + pn length bits
    for (const b of [0xc4, 0xc8, 0x48, 0x50]) {
      let err: unknown;
      try {
        assertReservedBitsZero(b);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(QuicError);
      expect((err as QuicError).code).toBe(TransportError.PROTOCOL_VIOLATION);
    }
  });
});

describe('header writers refuse misuse', () => {
  const buf = new Uint8Array(100);
  it('with RangeError naming the problem', () => {
    expect(() => writeLongHeader(buf, 0, PacketType.Retry, QUIC_V1, NO_TOKEN, NO_TOKEN, NO_TOKEN, 1)).toThrow(RangeError);
    expect(() => writeLongHeader(buf, 0, PacketType.Handshake, QUIC_V1, NO_TOKEN, NO_TOKEN, fromHex('01'), 1)).toThrow(/token/);
    expect(() => writeLongHeader(buf, 0, PacketType.Initial, 0x12345678, NO_TOKEN, NO_TOKEN, NO_TOKEN, 1)).toThrow(/not supported/);
    expect(() => writeLongHeader(buf, 0, PacketType.Initial, QUIC_V1, new Uint8Array(21), NO_TOKEN, NO_TOKEN, 1)).toThrow(/21 bytes/);
    expect(() => writeLongHeader(buf, 0, PacketType.Initial, QUIC_V1, NO_TOKEN, NO_TOKEN, NO_TOKEN, 5)).toThrow(RangeError);
    expect(() => writeLongHeader(buf, 95, PacketType.Initial, QUIC_V1, NO_TOKEN, NO_TOKEN, NO_TOKEN, 1)).toThrow(/does not fit/);
    expect(() => patchLongHeaderLength(buf, 0, 16384)).toThrow(RangeError);
    expect(() => writeShortHeader(buf, 99, fromHex('0102'), 1, 0, false)).toThrow(RangeError);
    expect(() => writeRetry(buf, 90, QUIC_V1, NO_TOKEN, NO_TOKEN, NO_TOKEN)).toThrow(RangeError);
  });
});

describe('header round trip (property)', () => {
  const cid = fc.uint8Array({ maxLength: 20 });
  const version = fc.constantFrom(QUIC_V1, QUIC_V2);

  it('long headers (Initial, 0-RTT, Handshake) in v1 and v2', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(PacketType.Initial, PacketType.ZeroRtt, PacketType.Handshake),
        version,
        cid,
        cid,
        fc.uint8Array({ maxLength: 100 }),
        fc.integer({ min: 1, max: 4 }),
        fc.integer({ min: 0, max: 300 }),
        (type, v, dcid, scid, tokenIn, pnLength, payload) => {
          const token = type === PacketType.Initial ? tokenIn : NO_TOKEN;
          const buf = new Uint8Array(600);
          const pnOffset = writeLongHeader(buf, 3, type, v, dcid, scid, token, pnLength);
          patchLongHeaderLength(buf, pnOffset - 2, payload);
          const h = new PacketHeader();
          expect(parsePacketHeader(buf, 3, 0, h)).toBe(HeaderStatus.Ok);
          expect([h.type, h.version, h.start, h.pnOffset, h.end]).toEqual([type, v, 3, pnOffset, pnOffset + payload]);
          expect(h.dcid).toEqual(dcid);
          expect(h.scid).toEqual(scid);
          expect(h.token).toEqual(token);
          expect(packetNumberLengthOf(buf[3]!)).toBe(pnLength);
          expect(() => assertReservedBitsZero(buf[3]!)).not.toThrow();
        },
      ),
    );
  });

  it('Retry, short headers and Version Negotiation', () => {
    fc.assert(
      fc.property(version, cid, cid, fc.uint8Array({ maxLength: 100 }), fc.integer({ min: 1, max: 4 }), fc.boolean(), fc.boolean(), fc.array(fc.integer({ min: 0, max: 0xffffffff }), { maxLength: 10 }), (v, dcid, scid, token, pnLength, spin, kp, versions) => {
        const buf = new Uint8Array(400);
        const h = new PacketHeader();
        const tag = writeRetry(buf, 0, v, dcid, scid, token);
        expect(parsePacketHeader(buf.subarray(0, tag + 16), 0, 0, h)).toBe(HeaderStatus.Ok);
        expect([h.type, h.version]).toEqual([PacketType.Retry, v]);
        expect([h.dcid, h.scid, h.token]).toEqual([dcid, scid, token]);

        const pnOffset = writeShortHeader(buf, 0, dcid, pnLength, kp ? 1 : 0, spin);
        expect(parsePacketHeader(buf.subarray(0, pnOffset + 20), 0, dcid.length, h)).toBe(HeaderStatus.Ok);
        expect([h.type, h.pnOffset, h.end]).toEqual([PacketType.OneRtt, pnOffset, pnOffset + 20]);
        expect(h.dcid).toEqual(dcid);
        expect(keyPhaseOf(buf[0]!)).toBe(kp ? 1 : 0);
        expect((buf[0]! & 0x20) !== 0).toBe(spin);

        const end = writeVersionNegotiation(buf, 0, dcid, scid, versions);
        expect(parsePacketHeader(buf.subarray(0, end), 0, 0, h)).toBe(HeaderStatus.Ok);
        expect(h.type).toBe(PacketType.VersionNegotiation);
        expect(h.supportedVersions).toEqual(versions);
      }),
    );
  });
});
