/**
 * Packet protection against RFC 9001 Appendix A (QUIC v1) and RFC 9369 Appendix A (QUIC v2),
 * byte for byte, on both crypto backends; plus tampering, misuse and round-trip properties.
 */
import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { readFileSync } from 'node:fs';
import { nodeBackend } from '../../src/crypto/node-backend.js';
import { nobleBackend } from '../../src/crypto/noble-backend.js';
import { defaultCrypto } from '../../src/crypto/index.js';
import { hkdfLabel } from '../../src/crypto/hkdf-label.js';
import type { CryptoBackend } from '../../src/crypto/backend.js';
import {
  INITIAL_SUITE,
  aeadLimits,
  createInitialProtection,
  createPacketProtection,
  deriveInitialSecrets,
  derivePacketKeyMaterial,
  type PacketProtectionSuite,
} from '../../src/transport/protection.js';
import { QUIC_V1, QUIC_V2, versionParameters, type VersionParameters } from '../../src/transport/version.js';
import { fromHex, toHex } from '../../src/util/bytes.js';

function vectors(name: string): Record<string, any> {
  return JSON.parse(readFileSync(new URL(`../../../shared/vectors/${name}`, import.meta.url), 'utf8'));
}

const BACKENDS: readonly CryptoBackend[] = [nodeBackend, nobleBackend, defaultCrypto];
const VERSIONS = [
  { name: 'v1 (RFC 9001)', vec: vectors('rfc9001-initial.json'), params: versionParameters(QUIC_V1)! },
  { name: 'v2 (RFC 9369)', vec: vectors('rfc9369-v2.json'), params: versionParameters(QUIC_V2)! },
];
const CHACHA: PacketProtectionSuite = { aead: 'chacha20-poly1305', hash: 'sha256', hp: 'chacha20' };
const SUITES: readonly PacketProtectionSuite[] = [
  INITIAL_SUITE,
  { aead: 'aes-256-gcm', hash: 'sha384', hp: 'aes-256-ecb' },
  CHACHA,
];

/** RFC 9000 Appendix A.3 packet-number decoding (test-side reference). */
function decodePn(largest: number, truncated: number, pnLength: number): number {
  const expected = largest + 1;
  const win = 2 ** (pnLength * 8);
  const hwin = win / 2;
  const candidate = expected - (expected % win) + (truncated % win);
  if (candidate <= expected - hwin && candidate < 2 ** 62 - win) return candidate + win;
  if (candidate > expected + hwin && candidate >= win) return candidate - win;
  return candidate;
}

interface PacketCase {
  label: string;
  header: string;
  payload: string;
  pn: number;
  pnLength: number;
  protectedPacket: string;
  sample: string;
  mask: string;
  suite: PacketProtectionSuite;
  secret: (c: CryptoBackend) => Uint8Array;
}

function cases(vec: Record<string, any>, params: VersionParameters): PacketCase[] {
  const ci = vec.client_initial;
  const si = vec.server_initial;
  const ch = vec.chacha20_short_header;
  const dcid = fromHex(vec.client_dcid);
  return [
    {
      label: 'client Initial (A.2)',
      header: ci.unprotected_header,
      payload: ci.payload,
      pn: ci.packet_number,
      pnLength: ci.packet_number_length,
      protectedPacket: ci.protected_packet,
      sample: ci.sample,
      mask: ci.mask,
      suite: INITIAL_SUITE,
      secret: (c) => deriveInitialSecrets(c, params, dcid).client,
    },
    {
      label: 'server Initial (A.3)',
      header: si.unprotected_header,
      payload: si.payload,
      pn: si.packet_number,
      pnLength: si.packet_number_length,
      protectedPacket: si.protected_packet,
      sample: si.sample,
      mask: si.mask,
      suite: INITIAL_SUITE,
      secret: (c) => deriveInitialSecrets(c, params, dcid).server,
    },
    {
      label: 'ChaCha20-Poly1305 short header (A.5)',
      header: ch.unprotected_header,
      payload: ch.payload_plaintext,
      pn: ch.packet_number,
      pnLength: ch.packet_number_length,
      protectedPacket: ch.packet,
      sample: ch.sample,
      mask: ch.mask,
      suite: CHACHA,
      secret: () => fromHex(ch.secret),
    },
  ];
}

describe.each(BACKENDS)('$name backend', (crypto) => {
  describe.each(VERSIONS)('$name', ({ vec, params }) => {
    it('A.1: HkdfLabels, Initial secrets and every key, IV and hp key', () => {
      for (const [label, hex] of Object.entries(vec.hkdf_labels as Record<string, string>)) {
        const len = label.endsWith(' iv') ? 12 : label.endsWith(' in') ? 32 : 16;
        expect(toHex(hkdfLabel(len, label, new Uint8Array(0))), label).toBe(hex);
      }
      const dcid = fromHex(vec.client_dcid);
      const s = deriveInitialSecrets(crypto, params, dcid);
      expect(toHex(s.initialSecret)).toBe(vec.initial_secret);
      expect(toHex(s.client)).toBe(vec.client.client_initial_secret);
      expect(toHex(s.server)).toBe(vec.server.server_initial_secret);
      for (const [side, secret] of [['client', s.client], ['server', s.server]] as const) {
        const m = derivePacketKeyMaterial(crypto, INITIAL_SUITE, params, secret);
        expect(toHex(m.key), side).toBe(vec[side].key);
        expect(toHex(m.iv), side).toBe(vec[side].iv);
        expect(toHex(m.hp), side).toBe(vec[side].hp);
      }
      const ch = vec.chacha20_short_header;
      const m = derivePacketKeyMaterial(crypto, CHACHA, params, fromHex(ch.secret));
      expect([toHex(m.key), toHex(m.iv), toHex(m.hp)]).toEqual([ch.key, ch.iv, ch.hp]);
    });

    it('A.5: the AEAD nonce is the IV XOR the packet number', () => {
      const ch = vec.chacha20_short_header;
      const p = createPacketProtection(crypto, CHACHA, params, fromHex(ch.secret));
      expect(toHex(p.payload.nonceFor(ch.packet_number))).toBe(ch.nonce);
      expect(toHex(p.payload.nonceFor(0))).toBe(ch.iv);
    });

    for (const c of cases(vec, params)) {
      it(`${c.label}: protect gives exactly the RFC's packet`, () => {
        const header = fromHex(c.header);
        const payload = fromHex(c.payload);
        const buf = new Uint8Array(header.length + payload.length + 16 + 9);
        buf.set(header, 0);
        buf.set(payload, header.length);
        const prot = createPacketProtection(crypto, c.suite, params, c.secret(crypto));
        const pnOffset = header.length - c.pnLength;
        const end = prot.protect(buf, 0, pnOffset, c.pnLength, header.length + payload.length, c.pn);
        expect(end).toBe(c.protectedPacket.length / 2);
        expect(toHex(buf.subarray(0, end))).toBe(c.protectedPacket);
        expect(toHex(buf.subarray(pnOffset + 4, pnOffset + 20))).toBe(c.sample);
      });

      it(`${c.label}: unprotect recovers the header, packet number and payload in place`, () => {
        const header = fromHex(c.header);
        const packet = fromHex(c.protectedPacket);
        // Place the packet after some other bytes, as in a coalesced datagram.
        const buf = new Uint8Array(packet.length + 11);
        buf.set(packet, 7);
        const prot = createPacketProtection(crypto, c.suite, params, c.secret(crypto));
        const pnOffset = 7 + header.length - c.pnLength;
        const pnLength = prot.unprotectHeader(buf, 7, pnOffset, 7 + packet.length);
        expect(pnLength).toBe(c.pnLength);
        expect(toHex(buf.subarray(7, 7 + header.length))).toBe(c.header);
        const pn = decodePn(c.pn - 1, prot.truncatedPacketNumber, pnLength);
        expect(pn).toBe(c.pn);
        const n = prot.openPayload(buf, 7, pnOffset + pnLength, 7 + packet.length, pn);
        expect(n).toBe(c.payload.length / 2);
        expect(toHex(buf.subarray(pnOffset + pnLength, pnOffset + pnLength + n))).toBe(c.payload);
      });

      it(`${c.label}: changing any single byte makes the packet fail to open`, () => {
        const packet = fromHex(c.protectedPacket);
        const prot = createPacketProtection(crypto, c.suite, params, c.secret(crypto));
        const pnOffset = c.header.length / 2 - c.pnLength;
        const step = packet.length > 300 ? 7 : 1;
        let tried = 0;
        for (let i = 0; i < packet.length; i += step) {
          const buf = packet.slice();
          buf[i]! ^= i % 2 ? 0x01 : 0x80;
          const pnLength = prot.unprotectHeader(buf, 0, pnOffset, buf.length);
          expect(pnLength).toBeGreaterThan(0);
          const pn = decodePn(c.pn - 1, prot.truncatedPacketNumber, pnLength);
          expect(prot.openPayload(buf, 0, pnOffset + pnLength, buf.length, pn), `byte ${i}`).toBe(-1);
          tried++;
        }
        expect(tried).toBeGreaterThan(20);
        expect(prot.payload.failedOpens).toBe(tried);
      });
    }

    it('createInitialProtection pairs client and server keys as derived', () => {
      const { client, server } = createInitialProtection(crypto, params, fromHex(vec.client_dcid));
      const si = vec.server_initial;
      const header = fromHex(si.unprotected_header);
      const payload = fromHex(si.payload);
      const buf = new Uint8Array(header.length + payload.length + 16);
      buf.set(header);
      buf.set(payload, header.length);
      server.protect(buf, 0, header.length - 2, 2, header.length + payload.length, 1);
      expect(toHex(buf)).toBe(si.protected_packet);
      expect(client.unprotectHeader(buf.slice(), 0, header.length - 2, buf.length)).toBeGreaterThan(0);
      const copy = fromHex(si.protected_packet);
      client.unprotectHeader(copy, 0, header.length - 2, copy.length);
      expect(client.openPayload(copy, 0, header.length, copy.length, 1)).toBe(-1);
    });
  });

  it('round-trips random packets for every suite, and rejects them under another key', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...SUITES),
        fc.uint8Array({ minLength: 48, maxLength: 48 }),
        fc.boolean(),
        fc.integer({ min: 1, max: 4 }),
        fc.integer({ min: 0, max: 2 ** 40 }),
        fc.uint8Array({ minLength: 0, maxLength: 30 }),
        fc.uint8Array({ minLength: 3, maxLength: 200 }),
        (suite, secret48, long, pnLength, pn, rest, payload) => {
          const secret = secret48.subarray(0, suite.hash === 'sha256' ? 32 : 48);
          const prot = createPacketProtection(crypto, suite, versionParameters(QUIC_V1)!, secret);
          const first = long ? 0xc0 | (pnLength - 1) : 0x40 | (pnLength - 1);
          const header = new Uint8Array(1 + rest.length + pnLength);
          header[0] = first;
          header.set(rest, 1);
          for (let i = 0; i < pnLength; i++) header[1 + rest.length + i] = Math.floor(pn / 256 ** (pnLength - 1 - i)) & 0xff;
          const pnOffset = 1 + rest.length;
          const buf = new Uint8Array(header.length + payload.length + 16);
          buf.set(header);
          buf.set(payload, header.length);
          const end = prot.protect(buf, 0, pnOffset, pnLength, header.length + payload.length, pn);
          expect(end).toBe(buf.length);
          // Only the low 4 (long) or 5 (short) bits of the first byte are masked.
          expect(buf[0]! & (long ? 0xf0 : 0xe0)).toBe(first & (long ? 0xf0 : 0xe0));
          const received = buf.slice();
          expect(prot.unprotectHeader(received, 0, pnOffset, end)).toBe(pnLength);
          expect(received.subarray(0, header.length)).toEqual(header);
          expect(prot.openPayload(received, 0, header.length, end, pn)).toBe(payload.length);
          expect(received.subarray(header.length, header.length + payload.length)).toEqual(payload);
          const otherSecret = secret.slice();
          otherSecret[0]! ^= 1;
          const other = createPacketProtection(crypto, suite, versionParameters(QUIC_V1)!, otherSecret);
          const wrong = buf.slice();
          const len = other.unprotectHeader(wrong, 0, pnOffset, end);
          expect(other.openPayload(wrong, 0, pnOffset + len, end, pn)).toBe(-1);
        },
      ),
      { numRuns: 60 },
    );
  });
});

describe('packet protection across backends', () => {
  it('a packet protected with one backend opens with the other, for every suite', () => {
    const v1 = versionParameters(QUIC_V1)!;
    for (const suite of SUITES) {
      const secret = new Uint8Array(suite.hash === 'sha256' ? 32 : 48).fill(9);
      for (const a of BACKENDS) {
        for (const b of BACKENDS) {
          const buf = new Uint8Array(1 + 8 + 2 + 1200 + 16);
          buf[0] = 0x41;
          buf[9] = 0x12;
          buf[10] = 0x34;
          buf.fill(0xab, 11, 1211);
          const end = createPacketProtection(a, suite, v1, secret).protect(buf, 0, 9, 2, 1211, 0x1234);
          const rx = createPacketProtection(b, suite, v1, secret);
          expect(rx.unprotectHeader(buf, 0, 9, end)).toBe(2);
          expect(rx.truncatedPacketNumber).toBe(0x1234);
          expect(rx.openPayload(buf, 0, 11, end, 0x1234), `${suite.aead} ${a.name} -> ${b.name}`).toBe(1200);
          expect(buf.subarray(11, 1211).every((x) => x === 0xab)).toBe(true);
        }
      }
    }
  });
});

describe('misuse and malformed input', () => {
  const prot = createPacketProtection(nodeBackend, INITIAL_SUITE, versionParameters(QUIC_V1)!, new Uint8Array(32));

  it('a payload too short for the header-protection sample is a RangeError when protecting', () => {
    const buf = new Uint8Array(64);
    buf[0] = 0x40;
    expect(() => prot.protect(buf, 0, 5, 1, 8, 0)).toThrow(RangeError); // 2 payload bytes + 1 pn byte < 4
    expect(prot.protect(buf, 0, 5, 1, 9, 0)).toBe(25); // 3 payload bytes + 1 pn byte = 4: exactly enough
  });

  it('no room for the tag, a bad pn length or a bad packet number are RangeErrors', () => {
    const buf = new Uint8Array(40);
    expect(() => prot.protect(buf, 0, 5, 1, 30, 0)).toThrow(RangeError);
    expect(() => prot.protect(buf, 0, 5, 5, 20, 0)).toThrow(RangeError);
    expect(() => prot.protect(buf, 0, 5, 1, 20, -1)).toThrow(RangeError);
    expect(() => prot.protect(buf, 0, 5, 1, 20, 1.5)).toThrow(RangeError);
    expect(() => prot.protect(buf, 0, 5, 1, 20, 2 ** 53)).toThrow(RangeError);
  });

  it('a packet too short to sample is reported (0) and left untouched', () => {
    const buf = Uint8Array.from({ length: 24 }, (_, i) => i);
    const copy = buf.slice();
    expect(prot.unprotectHeader(buf, 0, 5, 24)).toBe(0); // needs pnOffset + 20 = 25 bytes
    expect(buf).toEqual(copy);
    expect(prot.unprotectHeader(buf, 0, 5, 25 + 100)).toBe(0); // packetEnd beyond the buffer
    expect(buf).toEqual(copy);
  });

  it('a ciphertext shorter than a tag fails to open rather than throwing', () => {
    const buf = new Uint8Array(40);
    expect(prot.openPayload(buf, 0, 30, 40, 0)).toBe(-1);
  });

  it('a decoded packet number beyond 2^53 - 1 (a peer skipping far ahead) fails to open instead of throwing', () => {
    const buf = new Uint8Array(60);
    expect(prot.openPayload(buf, 0, 5, 60, 2 ** 60)).toBe(-1);
    expect(() => prot.openPayload(buf, 0, 5, 60, -1)).toThrow(RangeError);
  });

  it('a traffic secret of the wrong length is a TypeError', () => {
    expect(() => createPacketProtection(nodeBackend, INITIAL_SUITE, versionParameters(QUIC_V1)!, new Uint8Array(48))).toThrow(TypeError);
  });
});

describe('AEAD limits (RFC 9001 §6.6)', () => {
  const v = vectors('rfc9001-initial.json').aead_limits;
  const parse = (s: string) => (s.startsWith('none') ? Number.POSITIVE_INFINITY : 2 ** Number(s.slice(2)));
  it('match the vectors for each suite', () => {
    for (const [alg, name] of [
      ['aes-128-gcm', 'AEAD_AES_128_GCM'],
      ['aes-256-gcm', 'AEAD_AES_256_GCM'],
      ['chacha20-poly1305', 'AEAD_CHACHA20_POLY1305'],
    ] as const) {
      expect(aeadLimits(alg).confidentiality, name).toBe(parse(v[name].confidentiality_packets));
      expect(aeadLimits(alg).integrity, name).toBe(parse(v[name].integrity_failed_packets));
    }
  });

  it('packets sealed are counted per key', () => {
    const p = createPacketProtection(nodeBackend, CHACHA, versionParameters(QUIC_V1)!, new Uint8Array(32));
    const buf = new Uint8Array(64);
    for (let i = 0; i < 3; i++) p.protect(buf, 0, 1, 1, 10, i);
    expect(p.payload.sealedPackets).toBe(3);
    expect(p.limits).toEqual(aeadLimits('chacha20-poly1305'));
  });
});
